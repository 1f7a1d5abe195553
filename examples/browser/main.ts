// The demo page: controls, live charts, progress, confusion matrix, the drawing pad with class
// probabilities, and model save/load. All computing happens in the training worker; the page draws and asks
// (it uses tensorkit only for the class names and the download helper, so it never compiles a kernel).
import { downloadBytes, FASHION_MNIST_CLASSES } from 'tensorkit';
import { LineChart } from './chart.js';
import type { FromWorker, ModelInfo, Phase, Request, TrainRequest, WorkerEvent } from './protocol.js';
import { DEFAULT_SETTINGS } from './training.js';

type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

const CLASSES = FASHION_MNIST_CLASSES;

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`demo page: no element #${id}`);
  return el as T;
}

/** What the page knows, kept on `window.demo` so the browser tests can read it without scraping. */
const state = {
  ready: false,
  phase: 'idle' as Phase,
  threads: 0,
  variant: null as string | null,
  isolated: false,
  losses: [] as number[],
  accuracies: [] as number[],
  tests: [] as { epoch: number; steps: number; testLoss: number; testAccuracy: number }[],
  steps: 0,
  totalSteps: 0,
  imagesPerSecond: 0,
  done: null as null | Extract<WorkerEvent, { type: 'done' }>,
  probabilities: null as number[] | null,
  /** The 784 pixels behind `probabilities`. */
  pixels: null as number[] | null,
  predictions: 0,
  /** True while a classification is in flight or queued. */
  classifying: false,
  model: null as ModelInfo | null,
  errors: [] as string[],
};
(window as unknown as { demo: typeof state }).demo = state;

// ------------------------------------------------------------------------------------------------
// The worker and its request/reply channel.

const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();

function call<T>(body: RequestBody, transfer: Transferable[] = []): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    worker.postMessage({ ...body, id }, transfer);
  });
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const msg = event.data;
  if (msg.type === 'reply') {
    const waiter = pending.get(msg.id);
    pending.delete(msg.id);
    if (waiter === undefined) return;
    if (msg.ok) waiter.resolve(msg.value);
    else waiter.reject(new Error(msg.error));
    return;
  }
  onEvent(msg);
};
worker.onerror = (event) => {
  event.preventDefault();
  fail(`the training worker failed: ${event.message}`);
};

// ------------------------------------------------------------------------------------------------
// Messages shown to the user.

const toast = $('toast');
let toastTimer = 0;
function notify(text: string, kind: 'info' | 'error' = 'info'): void {
  toast.textContent = text;
  toast.className = `toast${kind === 'error' ? ' error' : ''}`;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => {
    toast.hidden = true;
  }, kind === 'error' ? 7000 : 3000);
}
function fail(text: string): void {
  state.errors.push(text);
  notify(text, 'error');
}

// ------------------------------------------------------------------------------------------------
// Training: controls, status, progress and charts.

const lossChart = new LineChart($<HTMLCanvasElement>('loss-chart'), { yMin: 0, yMaxAuto: true, format: (v) => v.toFixed(2) });
const accChart = new LineChart($<HTMLCanvasElement>('acc-chart'), { yMin: 0, yMax: 1, format: (v) => `${Math.round(v * 100)}%` });
const startButton = $<HTMLButtonElement>('start');
const pauseButton = $<HTMLButtonElement>('pause');
const stopButton = $<HTMLButtonElement>('stop');
const statusEl = $('status');
const PHASE_LABEL: Record<Phase, string> = {
  idle: 'Ready', loading: 'Loading data', training: 'Training', paused: 'Paused', evaluating: 'Testing', done: 'Done', stopped: 'Stopped', failed: 'Failed',
};

function showPhase(phase: Phase, detail: string): void {
  state.phase = phase;
  statusEl.dataset.phase = phase;
  statusEl.textContent = detail ? `${PHASE_LABEL[phase]} · ${detail}` : PHASE_LABEL[phase];
  statusEl.title = statusEl.textContent;
  const running = phase === 'loading' || phase === 'training' || phase === 'paused' || phase === 'evaluating';
  startButton.disabled = running || !state.ready;
  pauseButton.disabled = !(phase === 'training' || phase === 'paused');
  pauseButton.textContent = phase === 'paused' ? 'Resume' : 'Pause';
  stopButton.disabled = !running || phase === 'loading';
  for (const id of ['train-limit', 'epochs', 'test-limit', 'seed']) $<HTMLInputElement>(id).disabled = running;
  if (phase === 'failed') fail(`Training failed: ${detail}`);
}

function readRun(): TrainRequest {
  const int = (id: string, lo: number, hi: number, what: string): number => {
    const value = Number($<HTMLInputElement>(id).value);
    if (!Number.isInteger(value) || value < lo || value > hi) throw new RangeError(`${what} must be a whole number from ${lo} to ${hi}`);
    return value;
  };
  return {
    ...DEFAULT_SETTINGS,
    epochs: int('epochs', 1, 20, 'Epochs'),
    seed: int('seed', 0, 2147483647, 'Seed'),
    trainLimit: int('train-limit', 1, 60000, 'Training images'),
    testLimit: int('test-limit', 1, 10000, 'Test images'),
  };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 60) return `${Math.ceil(seconds)} s left`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s left`;
}

function showProgress(): void {
  const fraction = state.totalSteps > 0 ? state.steps / state.totalSteps : 0;
  $('bar-fill').style.width = `${(fraction * 100).toFixed(2)}%`;
  $('bar').setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
  $('progress-steps').textContent = `${state.steps.toLocaleString('en')} / ${state.totalSteps.toLocaleString('en')} steps`;
  $('progress-speed').textContent = state.imagesPerSecond > 0 ? `${Math.round(state.imagesPerSecond).toLocaleString('en')} img/s` : '— img/s';
  const left = state.imagesPerSecond > 0 && state.phase === 'training' ? ((state.totalSteps - state.steps) * DEFAULT_SETTINGS.batchSize) / state.imagesPerSecond : NaN;
  $('progress-eta').textContent = formatDuration(left);
}

$<HTMLFormElement>('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  let run: TrainRequest;
  try {
    run = readRun();
  } catch (err) {
    fail((err as Error).message);
    return;
  }
  state.losses = [];
  state.accuracies = [];
  state.tests = [];
  state.steps = 0;
  state.totalSteps = Math.ceil(run.trainLimit / run.batchSize) * run.epochs;
  state.imagesPerSecond = 0;
  state.done = null;
  lossChart.reset();
  accChart.reset();
  $('confusion-card').hidden = true;
  showProgress();
  call({ type: 'train', run }).catch((err: Error) => fail(err.message));
});
pauseButton.addEventListener('click', () => {
  call({ type: state.phase === 'paused' ? 'resume' : 'pause' }).catch((err: Error) => fail(err.message));
});
stopButton.addEventListener('click', () => {
  call({ type: 'stop' }).catch((err: Error) => fail(err.message));
});

function onEvent(msg: WorkerEvent): void {
  switch (msg.type) {
    case 'ready':
      state.ready = true;
      state.threads = msg.threads;
      state.variant = msg.variant;
      state.isolated = msg.isolated;
      $('chips').innerHTML = '';
      for (const [label, value] of [
        ['threads', `${msg.threads} of ${msg.cores}`],
        ['kernels', msg.variant === null ? 'TypeScript' : `WebAssembly ${msg.variant === 'relaxed-simd' ? 'relaxed SIMD' : 'SIMD'}`],
        ['isolated', msg.isolated ? 'yes' : 'no'],
      ] as const) {
        const chip = document.createElement('span');
        chip.className = 'chip';
        chip.append(`${label} `);
        const b = document.createElement('b');
        b.textContent = value;
        chip.append(b);
        $('chips').append(chip);
      }
      showModel(msg.model);
      showPhase('idle', '');
      classify();
      refreshSaved();
      break;
    case 'status':
      showPhase(msg.phase, msg.detail);
      showProgress();
      break;
    case 'progress':
      for (let i = 0; i < msg.losses.length; i++) {
        state.losses.push(msg.losses[i]);
        state.accuracies.push(msg.accuracies[i]);
      }
      state.steps = msg.steps;
      state.totalSteps = msg.totalSteps;
      state.imagesPerSecond = msg.imagesPerSecond;
      lossChart.append(msg.losses);
      accChart.append(msg.accuracies);
      showProgress();
      break;
    case 'epoch':
      state.tests.push({ epoch: msg.epoch, steps: msg.steps, testLoss: msg.testLoss, testAccuracy: msg.testAccuracy });
      lossChart.mark(msg.steps, msg.testLoss);
      accChart.mark(msg.steps, msg.testAccuracy);
      break;
    case 'done':
      state.done = msg;
      state.imagesPerSecond = msg.imagesPerSecond;
      showProgress();
      showConfusion(msg.confusion, msg.testAccuracy, msg.stopped);
      showModel(msg.model);
      classify();
      break;
    case 'model':
      showModel(msg.model);
      break;
  }
}

// ------------------------------------------------------------------------------------------------
// The confusion matrix: rows are true classes, columns predictions; cells shaded by row share.

function showConfusion(matrix: number[][], accuracy: number, stopped: boolean): void {
  const table = $<HTMLTableElement>('matrix');
  table.innerHTML = '';
  const head = table.createTHead().insertRow();
  const corner = document.createElement('th');
  corner.className = 'corner';
  corner.textContent = 'true ↓ · predicted →';
  head.append(corner);
  for (const name of CLASSES) {
    const th = document.createElement('th');
    th.textContent = name;
    head.append(th);
  }
  const recallHead = document.createElement('th');
  recallHead.textContent = 'recall';
  head.append(recallHead);
  const body = table.createTBody();
  matrix.forEach((row, t) => {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.className = 'rowname';
    th.textContent = CLASSES[t];
    tr.append(th);
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const td = tr.insertCell();
      const share = total > 0 ? count / total : 0;
      td.textContent = String(count);
      td.title = `${CLASSES[t]} predicted as ${CLASSES[p]}: ${count} (${(share * 100).toFixed(1)}%)`;
      // Diagonal in the accent colour, confusions in red; the share sets the strength.
      const alpha = Math.min(1, share * (t === p ? 1 : 3));
      td.style.background = t === p ? `rgba(79, 70, 229, ${0.08 + 0.85 * alpha})` : count > 0 ? `rgba(220, 38, 38, ${0.06 + 0.6 * alpha})` : '#f6f7fb';
      td.style.color = (t === p && alpha > 0.5) ? '#fff' : '#1c1f2e';
    });
    const recall = tr.insertCell();
    recall.className = 'recall';
    recall.textContent = total > 0 ? `${((row[t] / total) * 100).toFixed(0)}%` : '–';
  });
  const n = matrix.reduce((a, row) => a + row.reduce((b, c) => b + c, 0), 0);
  $('confusion-summary').textContent = `${n.toLocaleString('en')} test images · accuracy ${(accuracy * 100).toFixed(1)}%${stopped ? ' · stopped early' : ''}`;
  $('confusion-card').hidden = false;
}

// ------------------------------------------------------------------------------------------------
// The drawing pad: white strokes on black (Fashion-MNIST's look), cropped to the ink and scaled into
// 28×28 as the dataset's items fill the frame; a test image is sent exactly as it is in the data.

const pad = $<HTMLCanvasElement>('draw');
const padCtx = pad.getContext('2d', { willReadFrequently: true })!;
const preview = $<HTMLCanvasElement>('preview');
const previewCtx = preview.getContext('2d')!;
const small = document.createElement('canvas');
small.width = 28;
small.height = 28;
const smallCtx = small.getContext('2d', { willReadFrequently: true })!;
/** Exact pixels of a test image on the pad (until someone draws on it), with its label. */
let sample: { pixels: Float32Array; label: number } | null = null;

function clearPad(): void {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, pad.width, pad.height);
  sample = null;
}
clearPad();

/** The pad as 784 values in [0, 1]: the ink's bounding box scaled to fit 26×26, centred. */
function padPixels(): Float32Array {
  if (sample !== null) return sample.pixels;
  const { data, width, height } = padCtx.getImageData(0, 0, pad.width, pad.height);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4] > 25) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  smallCtx.fillStyle = '#000';
  smallCtx.fillRect(0, 0, 28, 28);
  if (x1 >= 0) {
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const scale = 26 / Math.max(w, h);
    smallCtx.imageSmoothingEnabled = true;
    smallCtx.imageSmoothingQuality = 'high';
    smallCtx.drawImage(pad, x0, y0, w, h, (28 - w * scale) / 2, (28 - h * scale) / 2, w * scale, h * scale);
  }
  const img = smallCtx.getImageData(0, 0, 28, 28).data;
  const out = new Float32Array(784);
  for (let i = 0; i < 784; i++) out[i] = img[i * 4] / 255;
  return out;
}

function showPreview(pixels: Float32Array): void {
  const img = previewCtx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i] * 255);
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  previewCtx.putImageData(img, 0, 0);
}

const probsList = $<HTMLOListElement>('probs');
const rows = CLASSES.map((name) => {
  const li = document.createElement('li');
  const label = document.createElement('span');
  label.className = 'name';
  label.textContent = name;
  const track = document.createElement('span');
  track.className = 'track';
  const value = document.createElement('span');
  value.className = 'value';
  track.append(value);
  const pct = document.createElement('span');
  pct.className = 'pct';
  pct.textContent = '–';
  li.append(label, track, pct);
  probsList.append(li);
  return { li, value, pct };
});

function showProbabilities(probs: number[]): void {
  state.probabilities = probs;
  state.predictions++;
  let best = 0;
  probs.forEach((p, c) => {
    if (p > probs[best]) best = c;
    rows[c].value.style.width = `${(p * 100).toFixed(2)}%`;
    rows[c].pct.textContent = `${(p * 100).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1)}%`;
    rows[c].li.dataset.probability = String(p);
  });
  rows.forEach((r, c) => r.li.classList.toggle('top', c === best));
  const verdict = $('verdict');
  verdict.innerHTML = '';
  if (sample === null && state.pixels !== null && state.pixels.every((v) => v === 0)) {
    verdict.textContent = 'Draw something, or pick a test image.';
    delete verdict.dataset.predicted;
    return;
  }
  const untrained = state.model !== null && state.model.origin.startsWith('fresh');
  verdict.append(untrained ? 'Untrained guess: ' : 'Looks like ');
  const strong = document.createElement('strong');
  strong.textContent = CLASSES[best];
  verdict.append(strong, ` (${(probs[best] * 100).toFixed(1)}%)`);
  if (sample !== null) verdict.append(` · labelled ${CLASSES[sample.label]}${sample.label === best ? ' ✓' : ' ✗'}`);
  verdict.dataset.predicted = CLASSES[best];
}

/** Classifies the pad now, or after the request in flight (at most one outstanding, the latest wins). */
let inFlight = false;
let again = false;
function classify(): void {
  if (!state.ready) return;
  state.classifying = true;
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  const pixels = padPixels();
  showPreview(pixels);
  call<number[]>({ type: 'predict', pixels: pixels.slice() })
    .then((probs) => {
      state.pixels = Array.from(pixels);
      showProbabilities(probs);
    }, (err: Error) => fail(err.message))
    .finally(() => {
      inFlight = false;
      if (again) {
        again = false;
        classify();
      } else {
        state.classifying = false;
      }
    });
}

// For the browser tests: classify the pad again (the model in the worker may have changed), and send
// the worker a request directly (to reach replies the page's buttons never ask for, such as errors).
(window as unknown as { demoClassify: () => void }).demoClassify = classify;
(window as unknown as { demoCall: typeof call }).demoCall = call;

let drawing = false;
let lastPoint: [number, number] | null = null;
let lastClassify = 0;
function padPoint(event: PointerEvent): [number, number] {
  const rect = pad.getBoundingClientRect();
  return [((event.clientX - rect.left) / rect.width) * pad.width, ((event.clientY - rect.top) / rect.height) * pad.height];
}
pad.addEventListener('pointerdown', (event) => {
  drawing = true;
  pad.setPointerCapture(event.pointerId);
  sample = null;
  lastPoint = padPoint(event);
  stroke(lastPoint, lastPoint);
});
pad.addEventListener('pointermove', (event) => {
  if (!drawing || lastPoint === null) return;
  const point = padPoint(event);
  stroke(lastPoint, point);
  lastPoint = point;
  if (performance.now() - lastClassify > 120) {
    lastClassify = performance.now();
    classify();
  }
});
for (const type of ['pointerup', 'pointercancel'] as const) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    lastPoint = null;
    classify();
  });
}
function stroke(from: [number, number], to: [number, number]): void {
  padCtx.strokeStyle = '#fff';
  padCtx.lineWidth = 22;
  padCtx.lineCap = 'round';
  padCtx.lineJoin = 'round';
  padCtx.beginPath();
  padCtx.moveTo(from[0], from[1]);
  padCtx.lineTo(to[0], to[1]);
  padCtx.stroke();
}

$('clear').addEventListener('click', () => {
  clearPad();
  classify();
});

let sampleIndex = 0;
$('sample').addEventListener('click', () => {
  // A stride through the test set that visits every class quickly (deterministic, no Math.random needed).
  const index = (sampleIndex++ * 7919) % 10000;
  call<{ pixels: number[]; label: number }>({ type: 'sample', index }).then(({ pixels, label }) => {
    const exact = Float32Array.from(pixels);
    smallCtx.putImageData(grayImage(exact), 0, 0);
    clearPad();
    padCtx.imageSmoothingEnabled = false;
    padCtx.drawImage(small, 0, 0, pad.width, pad.height);
    sample = { pixels: exact, label };
    classify();
  }, (err: Error) => fail(err.message));
});

function grayImage(pixels: Float32Array): ImageData {
  const img = smallCtx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i] * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  return img;
}

$<HTMLInputElement>('upload').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (file === undefined) return;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    fail(`${file.name}: not an image this browser can decode`);
    return;
  }
  clearPad();
  const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
  const w = bitmap.width * scale;
  const h = bitmap.height * scale;
  padCtx.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  bitmap.close();
  // Grey, and inverted when the picture is dark on light (photos usually are; the data is light on dark).
  const img = padCtx.getImageData(0, 0, pad.width, pad.height);
  const d = img.data;
  let border = 0;
  let count = 0;
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      const i = (y * pad.width + x) * 4;
      const g = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      d[i] = d[i + 1] = d[i + 2] = g;
      if ((x === 0 || y === 0 || x === pad.width - 1 || y === pad.height - 1) && x >= (pad.width - w) / 2 && x < (pad.width + w) / 2 && y >= (pad.height - h) / 2 && y < (pad.height + h) / 2) {
        border += g;
        count++;
      }
    }
  }
  if (count > 0 && border / count > 127) {
    for (let i = 0; i < d.length; i += 4) d[i] = d[i + 1] = d[i + 2] = 255 - d[i];
    // The letterbox bars were black before inversion; keep them black.
    padCtx.putImageData(img, 0, 0);
    padCtx.fillStyle = '#000';
    if (w < pad.width) {
      padCtx.fillRect(0, 0, (pad.width - w) / 2, pad.height);
      padCtx.fillRect((pad.width + w) / 2, 0, pad.width, pad.height);
    }
    if (h < pad.height) {
      padCtx.fillRect(0, 0, pad.width, (pad.height - h) / 2);
      padCtx.fillRect(0, (pad.height + h) / 2, pad.width, pad.height);
    }
  } else {
    padCtx.putImageData(img, 0, 0);
  }
  classify();
});

// ------------------------------------------------------------------------------------------------
// The model: download, upload, IndexedDB.

function showModel(info: ModelInfo): void {
  state.model = info;
  const el = $('model-origin');
  el.textContent = `${info.origin} · ${info.params.toLocaleString('en')} parameters`;
  el.title = el.textContent;
}

$('download').addEventListener('click', () => {
  call<Uint8Array>({ type: 'export' }).then((bytes) => {
    downloadBytes(bytes, `net000-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.safetensors`);
    notify(`Downloaded the model (${(bytes.length / 1024 / 1024).toFixed(2)} MB)`);
  }, (err: Error) => fail(err.message));
});

$<HTMLInputElement>('model-file').addEventListener('change', async (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (file === undefined) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  call<ModelInfo>({ type: 'import', bytes, name: file.name }, [bytes.buffer]).then(() => {
    notify(`Loaded ${file.name}`);
    classify();
  }, (err: Error) => fail(err.message));
});

interface Saved { name: string; bytes: number; savedAt: string }

function refreshSaved(): Promise<void> {
  return call<Saved[]>({ type: 'idb-list' }).then((list) => {
    const ul = $('saved');
    ul.innerHTML = '';
    if (list.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No models saved in this browser yet.';
      ul.append(li);
      return;
    }
    for (const entry of list) {
      const li = document.createElement('li');
      li.dataset.name = entry.name;
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = entry.name;
      const meta = document.createElement('span');
      meta.className = 'meta';
      meta.textContent = `${(entry.bytes / 1024 / 1024).toFixed(2)} MB · ${new Date(entry.savedAt).toLocaleString('en', { dateStyle: 'short', timeStyle: 'short' })}`;
      const load = document.createElement('button');
      load.type = 'button';
      load.textContent = 'Load';
      load.className = 'load';
      load.addEventListener('click', () => {
        call<ModelInfo>({ type: 'idb-load', name: entry.name }).then(() => {
          notify(`Loaded “${entry.name}” from this browser`);
          classify();
        }, (err: Error) => fail(err.message));
      });
      const del = document.createElement('button');
      del.type = 'button';
      del.textContent = 'Delete';
      del.className = 'delete';
      del.addEventListener('click', () => {
        call<boolean>({ type: 'idb-delete', name: entry.name }).then(() => refreshSaved(), (err: Error) => fail(err.message));
      });
      li.append(who, meta, load, del);
      ul.append(li);
    }
  }, (err: Error) => fail(err.message));
}

$<HTMLFormElement>('idb-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $<HTMLInputElement>('idb-name').value.trim();
  if (name === '') {
    fail('Give the model a name to save it under');
    return;
  }
  call<Saved>({ type: 'idb-save', name }).then((saved) => {
    notify(`Saved “${saved.name}” in this browser`);
    return refreshSaved();
  }, (err: Error) => fail(err.message));
});
