// The demo's dedicated worker: it owns the model and the data and trains synchronously, slice by slice,
// yielding between slices so the page's messages (pause, stop, predict, save) are answered while it trains.
// The library's synchronous API runs here, off the page's main thread.
import * as tk from 'tensorkit';
import type { FromWorker, ModelInfo, Phase, Request, TrainRequest } from './protocol.js';
import { buildNet000, compileNet, DEFAULT_SETTINGS, TrainingRun, weightsChecksum } from './training.js';

/** The worker global as used here (the example compiles with DOM types, not WebWorker ones). */
const scope = globalThis as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  location: { href: string };
  crossOriginIsolated?: boolean;
};

/** Wall time of one training slice: short enough for a responsive page, long enough to cost nothing. */
const SLICE_MS = 50;
const DATA_URL = new URL('data/fashion-mnist/', scope.location.href);

let model = buildNet000(tk, DEFAULT_SETTINGS.seed);
compileNet(model, DEFAULT_SETTINGS);
let origin = 'fresh (untrained)';
let trainedSteps = 0;
let phase: Phase = 'idle';
let pauseRequested = false;
let stopRequested = false;
let resume: (() => void) | null = null;
/** Loaded splits by image count, so a second run on the same subset loads nothing. */
const splits = new Map<string, Promise<tk.Split>>();

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

function modelInfo(): ModelInfo {
  return { params: model.countParams(), origin, trainedSteps };
}

function setPhase(next: Phase, detail = ''): void {
  phase = next;
  post({ type: 'status', phase, detail });
}

/** Lets queued messages run: a MessageChannel task (setTimeout would be clamped to 4 ms when nested). */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}

function loadSplit(which: 'train' | 't10k', limit: number): Promise<tk.Split> {
  const key = `${which}:${limit}`;
  let split = splits.get(key);
  if (split === undefined) {
    split = tk.loadIdxSplit(new URL(`${which}-images-idx3-ubyte.gz`, DATA_URL), new URL(`${which}-labels-idx1-ubyte.gz`, DATA_URL), { limit });
    // A failed load is not cached: the next run tries again.
    split.catch(() => splits.delete(key));
    splits.set(key, split);
  }
  return split;
}

/** Mean cross-entropy, accuracy and predicted classes of the model over a split, in eval mode. */
function evaluateSplit(split: tk.Split): { loss: number; accuracy: number; predicted: Int32Array } {
  const probs = model.predict(split.images, { batchSize: 250 });
  const n = split.images.shape[0];
  const predicted = new Int32Array(n);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (probs.data[i * 10 + c] > probs.data[i * 10 + best]) best = c;
    predicted[i] = best;
    const label = split.labels.data[i];
    if (best === label) correct++;
    // Clamped like the library's loss would see a saturated softmax: log(0) would be −∞.
    loss -= Math.log(Math.max(probs.data[i * 10 + label], 1e-12));
  }
  return { loss: loss / n, accuracy: correct / n, predicted };
}

function checkRun(run: TrainRequest): void {
  const ints: [string, number, number, number][] = [['epochs', run.epochs, 1, 100], ['batchSize', run.batchSize, 1, 4096], ['trainLimit', run.trainLimit, 1, 60000], ['testLimit', run.testLimit, 1, 10000]];
  for (const [name, value, lo, hi] of ints) {
    if (!Number.isInteger(value) || value < lo || value > hi) throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${value}`);
  }
  if (!(run.lr > 0 && run.lr < 10)) throw new RangeError(`lr must be in (0, 10), got ${run.lr}`);
  if (!(run.momentum >= 0 && run.momentum < 1)) throw new RangeError(`momentum must be in [0, 1), got ${run.momentum}`);
}

async function train(request: TrainRequest): Promise<void> {
  checkRun(request);
  pauseRequested = false;
  stopRequested = false;
  setPhase('loading', 'Fetching and decompressing Fashion-MNIST…');
  const [trainSplit, testSplit] = await Promise.all([loadSplit('train', request.trainLimit), loadSplit('t10k', request.testLimit)]);
  model = buildNet000(tk, request.seed);
  compileNet(model, request);
  origin = 'training';
  trainedSteps = 0;
  post({ type: 'model', model: modelInfo() });
  const run = new TrainingRun(tk, model, trainSplit, request);
  setPhase('training', `${request.trainLimit.toLocaleString('en')} images × ${request.epochs} epoch${request.epochs > 1 ? 's' : ''}`);
  // Wall time while training (yields included, pauses and evaluations not): what the progress bar shows.
  let activeMs = 0;
  let last = { loss: NaN, accuracy: NaN };
  while (!run.done && !stopRequested) {
    const sliceStart = performance.now();
    const epoch = run.currentEpoch;
    run.runFor(SLICE_MS);
    trainedSteps = run.steps;
    const { losses, accuracies } = run.takeSteps();
    await yieldToMessages();
    activeMs += performance.now() - sliceStart;
    post({
      type: 'progress', steps: run.steps, totalSteps: run.totalSteps, epoch: run.currentEpoch, epochs: request.epochs,
      images: run.images, imagesPerSecond: run.images / (activeMs / 1000), losses, accuracies,
    });
    if (run.currentEpoch !== epoch || run.done) {
      setPhase('evaluating', `Testing epoch ${epoch + 1} on ${request.testLimit.toLocaleString('en')} images…`);
      await yieldToMessages();
      const { loss, accuracy } = evaluateSplit(testSplit);
      last = { loss, accuracy };
      post({ type: 'epoch', epoch, steps: run.steps, testLoss: loss, testAccuracy: accuracy });
      if (!run.done) setPhase('training', `epoch ${run.currentEpoch + 1} of ${request.epochs}`);
    }
    if (pauseRequested && !stopRequested) {
      setPhase('paused', `after ${run.steps} steps`);
      await new Promise<void>((resolve) => {
        resume = resolve;
      });
      resume = null;
      if (!stopRequested) setPhase('training', `epoch ${run.currentEpoch + 1} of ${request.epochs}`);
    }
  }
  const stopped = !run.done;
  setPhase('evaluating', `Confusion matrix on ${request.testLimit.toLocaleString('en')} test images…`);
  await yieldToMessages();
  const final = evaluateSplit(testSplit);
  if (stopped) last = { loss: final.loss, accuracy: final.accuracy };
  origin = stopped ? `trained ${run.steps} steps (stopped)` : `trained ${request.epochs} epoch${request.epochs > 1 ? 's' : ''} on ${request.trainLimit.toLocaleString('en')} images`;
  post({
    type: 'done', stopped, steps: run.steps, images: run.images, seconds: activeMs / 1000,
    imagesPerSecond: run.images / (activeMs / 1000), trainImagesPerSecond: run.images / run.seconds, threads: tk.getThreads(),
    testAccuracy: last.accuracy, testLoss: last.loss, confusion: tk.confusionMatrix(final.predicted, testSplit.labels.data, 10),
    checksum: weightsChecksum(model), model: modelInfo(),
  });
  setPhase(stopped ? 'stopped' : 'done', `${run.steps} steps, test accuracy ${(final.accuracy * 100).toFixed(1)}%`);
}

/** Replaces the model with a loaded one after checking it takes 28×28 images to 10 classes. */
function adopt(loaded: tk.Sequential, from: string): ModelInfo {
  const out = loaded.predict(tk.zeros([1, 1, 28, 28]));
  if (out.shape.join() !== '1,10') throw new Error(`${from}: this model maps [1, 28, 28] images to [${out.shape.slice(1).join(', ')}], not to 10 classes`);
  model = loaded;
  compileNet(model, DEFAULT_SETTINGS);
  origin = from;
  post({ type: 'model', model: modelInfo() });
  return modelInfo();
}

function busy(): boolean {
  return phase === 'loading' || phase === 'training' || phase === 'paused' || phase === 'evaluating';
}

async function handle(request: Request): Promise<[unknown, Transferable[]?]> {
  switch (request.type) {
    case 'train':
      if (busy()) throw new Error('a run is already going: stop it first');
      train(request.run).catch((err: unknown) => {
        setPhase('failed', (err as Error).message);
      });
      return [null];
    case 'pause':
      pauseRequested = true;
      return [null];
    case 'resume':
      pauseRequested = false;
      resume?.();
      return [null];
    case 'stop':
      stopRequested = true;
      pauseRequested = false;
      resume?.();
      return [null];
    case 'predict': {
      if (request.pixels.length !== 784) throw new RangeError(`predict: expected 784 pixels (28×28), got ${request.pixels.length}`);
      const probs = model.predict(tk.tensor(request.pixels, [1, 1, 28, 28]));
      return [Array.from(probs.data)];
    }
    case 'sample': {
      const test = await loadSplit('t10k', 10000);
      const i = ((request.index % 10000) + 10000) % 10000;
      return [{ pixels: Array.from(test.images.data.subarray(i * 784, i * 784 + 784)), label: test.labels.data[i], index: i }];
    }
    case 'export': {
      const bytes = tk.encodeModel(model);
      return [bytes, [bytes.buffer as ArrayBuffer]];
    }
    case 'import': {
      if (busy()) throw new Error('cannot load a model while training: stop first');
      const { model: loaded } = await tk.loadModelFrom(request.bytes, { name: request.name });
      return [adopt(loaded, `file ${request.name}`)];
    }
    case 'idb-save':
      return [await tk.saveModelToIndexedDb(request.name, model)];
    case 'idb-load': {
      if (busy()) throw new Error('cannot load a model while training: stop first');
      const { model: loaded } = await tk.loadModelFromIndexedDb(request.name);
      return [adopt(loaded, `IndexedDB “${request.name}”`)];
    }
    case 'idb-delete':
      return [await tk.deleteIndexedDbModel(request.name)];
    case 'idb-list':
      return [await tk.listIndexedDbModels()];
  }
}

scope.onmessage = (event) => {
  const request = event.data;
  handle(request).then(
    ([value, transfer]) => post({ type: 'reply', id: request.id, ok: true, value }, transfer ?? []),
    (err: unknown) => post({ type: 'reply', id: request.id, ok: false, error: err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err) }),
  );
};

// ready() compiles the kernels asynchronously and, in a cross-origin isolated page, starts the pool's
// nested Web Workers (they start only while this worker's event loop runs); then training is threaded.
const announce = (): void => post({ type: 'ready', threads: tk.getThreads(), cores: tk.availableCores(), variant: tk.wasmGemmVariant(), isolated: scope.crossOriginIsolated === true, model: modelInfo() });
tk.ready().then(announce, (err: unknown) => {
  console.warn(`tensorkit: one thread (${err instanceof Error ? err.message : String(err)})`);
  announce();
});
