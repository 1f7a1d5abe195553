// A small canvas line chart for the demo's live curves: per-step values as a faint min–max band, their
// exponential moving average as a line, and marked points (test results); redrawn once per frame.

/** Options of {@link LineChart}. */
export interface ChartOptions {
  readonly yMin: number;
  /** Fixed top of the y axis; with `yMaxAuto` the top follows the smoothed curve instead. */
  readonly yMax?: number;
  readonly yMaxAuto?: boolean;
  /** Tick label of a y value. */
  readonly format: (value: number) => string;
}

/** Weight of a new value in the moving average (about the last 50 steps count). */
const SMOOTHING = 0.04;

/** A live chart over a canvas, sized to its CSS box and the device pixel ratio. */
export class LineChart {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly options: ChartOptions;
  private values: number[] = [];
  private smooth: number[] = [];
  private marks: [number, number][] = [];
  private ema = 0;
  private weight = 0;
  private queued = false;

  constructor(canvas: HTMLCanvasElement, options: ChartOptions) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d')!;
    this.options = options;
    new ResizeObserver(() => this.request()).observe(canvas);
    this.request();
  }

  /** Adds per-step values (step numbers continue from the last). */
  append(values: readonly number[]): void {
    for (const v of values) {
      this.values.push(v);
      // Bias-corrected EMA, so the line starts at the first values rather than at 0.
      this.ema = (1 - SMOOTHING) * this.ema + SMOOTHING * v;
      this.weight = (1 - SMOOTHING) * this.weight + SMOOTHING;
      this.smooth.push(this.ema / this.weight);
    }
    this.request();
  }

  /** Marks a point at step `x` (a test result). */
  mark(x: number, y: number): void {
    this.marks.push([x, y]);
    this.request();
  }

  reset(): void {
    this.values = [];
    this.smooth = [];
    this.marks = [];
    this.ema = 0;
    this.weight = 0;
    this.request();
  }

  private request(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.draw();
    });
  }

  private draw(): void {
    const { canvas, ctx, options } = this;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth;
    const cssH = canvas.clientHeight;
    if (cssW === 0 || cssH === 0) return;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const left = 44;
    const right = 12;
    const top = 10;
    const bottom = 24;
    const w = cssW - left - right;
    const h = cssH - top - bottom;
    const n = this.values.length;
    let yMax = options.yMax ?? 1;
    if (options.yMaxAuto) {
      let m = 0;
      for (const v of this.smooth) if (v > m) m = v;
      for (const [, v] of this.marks) if (v > m) m = v;
      yMax = m > 0 ? niceCeil(m * 1.15) : 3;
    }
    const yMin = options.yMin;
    const xMax = Math.max(n, ...this.marks.map(([x]) => x), 10);
    const X = (i: number): number => left + (i / xMax) * w;
    const Y = (v: number): number => top + h - ((Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * h;

    // Grid and axes.
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#6b7088';
    ctx.strokeStyle = '#eceef5';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let t = 0; t <= 4; t++) {
      const v = yMin + ((yMax - yMin) * t) / 4;
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + w, y);
      ctx.stroke();
      ctx.fillText(options.format(v), left - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const step = niceStep(xMax / 5);
    for (let x = 0; x <= xMax; x += step) ctx.fillText(x >= 1000 ? `${x / 1000}k` : String(x), X(x), top + h + 6);

    if (n === 0 && this.marks.length === 0) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillStyle = '#9a9eb5';
      ctx.font = '13px system-ui, sans-serif';
      ctx.fillText('press Start to train', left + w / 2, top + h / 2);
      return;
    }

    // Raw values: one min–max bar per pixel column (thousands of steps stay readable).
    const columns = Math.max(1, Math.floor(w));
    const perColumn = Math.max(1, n / columns);
    ctx.fillStyle = 'rgba(99, 102, 241, 0.3)';
    for (let c = 0; c * perColumn < n; c++) {
      const a = Math.floor(c * perColumn);
      const b = Math.min(n, Math.floor((c + 1) * perColumn) || a + 1);
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = a; i < Math.max(b, a + 1); i++) {
        lo = Math.min(lo, this.values[i]);
        hi = Math.max(hi, this.values[i]);
      }
      const x = X(a);
      const width = Math.max(1, X(Math.max(b, a + 1)) - x);
      ctx.fillRect(x, Y(hi), width, Math.max(1, Y(lo) - Y(hi)));
    }

    // The moving average.
    ctx.strokeStyle = '#4f46e5';
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.beginPath();
    for (let c = 0; c * perColumn < n; c++) {
      const i = Math.min(n - 1, Math.floor((c + 1) * perColumn) - 1);
      const x = X(i + 1);
      const y = Y(this.smooth[i]);
      if (c === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();

    // Test results.
    for (const [x, v] of this.marks) {
      ctx.fillStyle = '#f59e0b';
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(X(x), Y(v), 5, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = '#92400e';
      ctx.textAlign = X(x) > left + w - 40 ? 'right' : 'center';
      ctx.textBaseline = 'bottom';
      ctx.font = '600 11px system-ui, sans-serif';
      ctx.fillText(options.format(v), X(x), Y(v) - 8);
    }
  }
}

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k) at or above `v`. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A round tick spacing near `v` (1, 2 or 5 × 10^k, at least 1). */
function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
