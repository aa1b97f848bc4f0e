import type { Attributes, HistogramLike } from './otel-types.js';
import type { Telemetry } from './telemetry.js';

/** How one method of an instrumented object is measured. */
export interface MethodSpec {
  /** Span name. */
  span: string;
  /** Histogram of the call's duration in seconds. */
  duration: HistogramLike;
  /** Attributes on the span and the duration, or a function of the call's arguments. */
  attributes: Attributes | ((args: unknown[]) => Attributes);
  /** Called with the result of a successful call (counters of hits, turns, …). */
  after?: (result: unknown, args: unknown[]) => void;
  /** Span kind (default INTERNAL). */
  kind?: number;
}

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * A proxy of `target` whose methods named in `specs` run through {@link Telemetry.run};
 * every other property passes through. Methods are called on `target` itself, so classes
 * with `#private` fields work behind the proxy. Wrapped functions are made once per method.
 */
export function instrumentMethods<T extends object>(target: T, telemetry: Telemetry, specs: Readonly<Record<string, MethodSpec>>): T {
  const made = new Map<PropertyKey, { original: AnyFunction; wrapped: AnyFunction }>();
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== 'function') return value;
      const known = made.get(property);
      if (known !== undefined && known.original === value) return known.wrapped;
      const original = value as AnyFunction;
      const spec = typeof property === 'string' ? specs[property] : undefined;
      const wrapped: AnyFunction =
        spec === undefined
          ? original.bind(object)
          : (...args: unknown[]) => {
              // Nothing listens (no SDK registered): the bare call, not even an extra promise.
              if (!telemetry.active()) return original.apply(object, args);
              const attributes = typeof spec.attributes === 'function' ? spec.attributes(args) : spec.attributes;
              return telemetry.run(
                spec.span,
                attributes,
                spec.duration,
                async () => {
                  const result = await original.apply(object, args);
                  spec.after?.(result, args);
                  return result;
                },
                spec.kind,
              );
            };
      made.set(property, { original, wrapped });
      return wrapped;
    },
  });
}
