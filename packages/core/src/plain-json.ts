import { describeValue } from './describe-value.js';
import { isPlainObject } from './plain-object.js';

/** Deepest nesting {@link plainJsonProblem} accepts by default. */
export const MAX_JSON_DEPTH = 32;

/**
 * Why `value` is not plain JSON data, or `undefined` when it is: `null`, booleans, finite
 * numbers, strings, arrays and plain objects, acyclic and at most `maxDepth` levels deep,
 * which every store keeps and gives back unchanged. BigInts, functions, symbols,
 * `undefined`, NaN and class instances are named with their path (`name` is the root's name
 * in the message, e.g. `metadata`), before they reach an encoder that would throw a TypeError.
 */
export function plainJsonProblem(value: unknown, name: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const path: object[] = [];
  const visit = (node: unknown, where: string): string | undefined => {
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(node) ? undefined : `${name}${where} is ${node}; only finite numbers are stored`;
      case 'object': {
        if (node === null) return undefined;
        if (path.includes(node)) return `${name}${where} refers back to itself (a cycle)`;
        if (path.length >= maxDepth) return `${name} is nested deeper than ${maxDepth} levels`;
        path.push(node);
        let problem: string | undefined;
        try {
          if (Array.isArray(node)) {
            for (let index = 0; index < node.length && problem === undefined; index++) problem = visit(node[index], `${where}[${index}]`);
          } else if (isPlainObject(node)) {
            for (const key of Object.keys(node)) {
              problem = visit(node[key], `${where}.${key}`);
              if (problem !== undefined) break;
            }
          } else {
            problem = `${name}${where} is ${describeValue(node)}; use plain objects and arrays`;
          }
        } catch {
          // A Proxy with throwing traps somewhere inside.
          problem = `${name}${where} could not be read`;
        }
        path.pop();
        return problem;
      }
      default:
        return `${name}${where} is ${describeValue(node)}, which cannot be stored as JSON`;
    }
  };
  return visit(value, '');
}
