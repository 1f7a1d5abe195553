// Loads the distributed-sweep modules (BullMQ on Redis) for the CLI, on demand, with msgpackr's optional
// native accelerator turned off: the library runs no native code, and the pure-JavaScript encoder
// BullMQ then uses gives the same bytes.
export async function loadDistributed(): Promise<typeof import('./index.js')> {
  process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true';
  return import('./index.js');
}
