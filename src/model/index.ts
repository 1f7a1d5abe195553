// Models: Module (attribute-named children, parameters, state dict, fit), Parameter, the built-in
// layers as modules (`nn`), the module registry, and Sequential (a Module).
export * from './sequential.js';
export { Module, ModuleTrainable, type ModuleOutput, type BuildOptions } from './module.js';
export { Parameter, type ParameterOptions } from './parameter.js';
export { LayerModule, layerModule, type LayerModuleOptions } from './layer-module.js';
export { registerModule, createModule, moduleNames, registeredModuleName, type ModuleClass } from './module-registry.js';
export { type CompileOptions, type Spec } from './compile.js';
export { traceModule, type Trace, type TraceOp, type TraceValue, type TraceOptions } from './trace.js';
export * as nn from './nn.js';
