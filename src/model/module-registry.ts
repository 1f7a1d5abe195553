// The module registry: user Module classes by name, so a model file can record a module's class and
// config (JSON, no code) and rebuild it on load.
import { createRegistry, type RegisterOptions } from '../registry.js';
import type { Module } from './module.js';

/** A Module class whose constructor takes the config its `getConfig()` returns. */
export type ModuleClass = new (config: Record<string, unknown>) => Module;

/** The module registry (names are lower-case kebab, as every registry's). */
export const moduleRegistry = createRegistry<ModuleClass>('module');
const namesByClass = new Map<ModuleClass, string>();

/**
 * Registers a Module class by name: `registerModule('residual-block', ResidualBlock)`. A model file
 * then records the name and `getConfig()`, and loading calls `new ResidualBlock(config)`.
 */
export function registerModule(name: string, moduleClass: ModuleClass, options?: RegisterOptions): void {
  if (typeof moduleClass !== 'function' || moduleClass.prototype === undefined) {
    throw new Error(`registerModule: "${name}" needs a Module class (constructed with new), got ${typeof moduleClass}`);
  }
  moduleRegistry.register(name, moduleClass, options);
  namesByClass.set(moduleClass, name);
}

/** Creates a registered module from its name and config. */
export function createModule(name: string, config: Record<string, unknown> = {}): Module {
  const C = moduleRegistry.get(name);
  return new C(config);
}

/** Names of registered modules. */
export function moduleNames(): string[] {
  return moduleRegistry.names();
}

/** The registered name of `module`'s class, or null when its class is not registered. */
export function registeredModuleName(module: Module): string | null {
  const name = namesByClass.get(module.constructor as ModuleClass);
  return name !== undefined && moduleRegistry.has(name) && moduleRegistry.get(name) === module.constructor ? name : null;
}
