// functional.ts: grad(fn) and valueAndGrad(fn), the functional forms of backward: fn of Variables
// returning a one-element Variable becomes a function of Tensors returning the gradients.
import { Tensor, formatShape } from '../tensor/tensor.js';
import { AutogradError, withGradMode } from './tape.js';
import { Variable } from './variable.js';

/** Which arguments to differentiate: one index (the result is one gradient) or several (an array of them). */
export type ArgNums = number | readonly number[];

/** The value of fn and the gradients of the chosen arguments. */
export interface ValueAndGrad<G> {
  readonly value: number;
  readonly grads: G;
}

type Grads<A extends ArgNums> = A extends number ? Tensor : Tensor[];

/**
 * `valueAndGrad(fn, argnums)(x0, x1, …)` runs `fn` on fresh leaf Variables over the arguments (with
 * tracking on, even inside noGrad), backpropagates from its one-element result and returns the value
 * and the gradients of the arguments in `argnums` (default 0; an argument the result does not depend
 * on gets zeros). Arguments given as Variables are detached first: their own `.grad` is not touched.
 */
export function valueAndGrad<A extends ArgNums = 0>(
  fn: (...args: Variable[]) => Variable, argnums?: A,
): (...args: (Tensor | Variable)[]) => ValueAndGrad<Grads<A>> {
  if (typeof fn !== 'function') throw new Error(`valueAndGrad: fn must be a function, got ${String(fn)}`);
  const which = argnums ?? 0;
  const list = typeof which === 'number' ? [which] : [...(which as readonly number[])];
  return (...args) => {
    for (const i of list) {
      if (!Number.isInteger(i) || i < 0 || i >= args.length) {
        throw new Error(`valueAndGrad: argnums ${i} is out of range for ${args.length} arguments`);
      }
    }
    const vars = args.map((x, i) => {
      if (x instanceof Variable) return new Variable(x.value, { requiresGrad: list.includes(i) });
      if (x instanceof Tensor) return new Variable(x, { requiresGrad: list.includes(i) });
      throw new Error(`valueAndGrad: argument ${i} must be a Tensor or a Variable, got ${Array.isArray(x) ? 'an array' : String(x)}`);
    });
    const out = withGradMode(true, () => fn(...vars));
    if (!(out instanceof Variable)) throw new Error('valueAndGrad: fn must return a Variable');
    if (out.size !== 1) throw new AutogradError(`valueAndGrad: fn must return one element, got shape ${formatShape(out.shape)}`);
    if (out.requiresGrad) out.backward();
    const grads = list.map((i) => vars[i].grad ?? new Tensor(new Float32Array(vars[i].size), vars[i].shape));
    return { value: out.item(), grads: (typeof which === 'number' ? grads[0] : grads) as Grads<A> };
  };
}

/** `grad(fn, argnums)(x0, x1, …)`: the gradients of {@link valueAndGrad} without the value. */
export function grad<A extends ArgNums = 0>(fn: (...args: Variable[]) => Variable, argnums?: A): (...args: (Tensor | Variable)[]) => Grads<A> {
  const vg = valueAndGrad(fn, argnums);
  return (...args) => vg(...args).grads;
}
