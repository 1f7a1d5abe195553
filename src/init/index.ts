// Initializers: the interface, the registry and the built-ins (registered here, the only side effect of this folder).
import { registerInitializer } from './initializer.js';
import { constantInit, onesInit, zerosInit } from './constant.js';
import { kaimingNormal, kaimingUniform } from './kaiming.js';
import { fanInUniform, randomNormal, randomUniform } from './random.js';
import { xavierNormal, xavierUniform } from './xavier.js';

export * from './initializer.js';
export { computeFans, calculateGain, NONLINEARITIES, type Nonlinearity } from './fans.js';
export { zerosInit, onesInit, constantInit } from './constant.js';
export { randomNormal, randomUniform, fanInUniform, fillNormal, fillUniform } from './random.js';
export { xavierUniform, xavierNormal } from './xavier.js';
export { kaimingUniform, kaimingNormal, type FanMode } from './kaiming.js';

registerInitializer('zeros', zerosInit);
registerInitializer('ones', onesInit);
registerInitializer('constant', constantInit);
registerInitializer('random-normal', randomNormal);
registerInitializer('random-uniform', randomUniform);
registerInitializer('fan-in-uniform', fanInUniform);
registerInitializer('xavier-uniform', xavierUniform);
registerInitializer('xavier-normal', xavierNormal);
registerInitializer('kaiming-uniform', kaimingUniform);
registerInitializer('kaiming-normal', kaimingNormal);
