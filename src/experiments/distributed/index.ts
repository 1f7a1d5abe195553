// Distributed sweeps (BullMQ on Redis): registration, agents, status and pull. Loaded only by the CLI's
// sweep and agent commands, never by `import 'tensorkit'`, so the core library keeps zero dependencies.
export { parseRedisUrl, redisOptions, connect, watchConnection, QueueError, type RedisTarget } from './connection.js';
export {
  storeSweep, readMeta, readTrials, assignTrial, hyperbandDecide, checkTrialParams, sweepStatus, pullSweep, withLock, keys, queueName, newSweepId, checkSweepId,
  type SweepMeta, type DistributedTrial, type TrialState, type SweepStatus, type RegisterOptions,
} from './store.js';
export { registerSweep, openSweep, runAgent, CONNECT_TIMEOUT_MS, type AgentOptions, type AgentResult, type Revalidate } from './agent.js';
