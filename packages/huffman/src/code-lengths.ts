/**
 * Code lengths for a byte histogram: plain Huffman when its longest code fits
 * the limit (that is optimal), otherwise package-merge, which is optimal under
 * the limit. Returns 256 lengths, 0 for absent symbols; a lone symbol gets 1.
 * The caller guarantees `2 ** maxCodeLength >= distinct symbols`.
 */
export function computeCodeLengths(counts: ArrayLike<number>, maxCodeLength: number): Uint8Array {
  const lengths = new Uint8Array(256);
  const present: number[] = [];
  for (let symbol = 0; symbol < 256; symbol++) if ((counts[symbol] as number) > 0) present.push(symbol);
  const n = present.length;
  if (n === 0) return lengths;
  if (n === 1) {
    lengths[present[0] as number] = 1;
    return lengths;
  }
  // Ascending weight, ties by symbol, so the result is deterministic.
  present.sort((a, b) => (counts[a] as number) - (counts[b] as number) || a - b);
  const weights = present.map((symbol) => counts[symbol] as number);

  const depths = huffmanDepths(weights);
  let longest = 0;
  for (const depth of depths) if (depth > longest) longest = depth;
  const chosen = longest <= maxCodeLength ? depths : packageMerge(weights, maxCodeLength);
  for (let i = 0; i < n; i++) lengths[present[i] as number] = chosen[i] as number;
  return lengths;
}

/** Two-queue Huffman over weights sorted ascending; returns each leaf's depth. */
function huffmanDepths(weights: readonly number[]): number[] {
  const n = weights.length;
  const nodeWeight = new Float64Array(2 * n - 1);
  const parent = new Int32Array(2 * n - 1);
  for (let i = 0; i < n; i++) nodeWeight[i] = weights[i] as number;
  let leaf = 0;
  let internalHead = n;
  let next = n;
  const takeSmallest = (): number => {
    // Leaves win ties so that equal weights build shallower trees first.
    if (leaf < n && (internalHead >= next || (nodeWeight[leaf] as number) <= (nodeWeight[internalHead] as number))) {
      return leaf++;
    }
    return internalHead++;
  };
  while (next < 2 * n - 1) {
    const a = takeSmallest();
    const b = takeSmallest();
    nodeWeight[next] = (nodeWeight[a] as number) + (nodeWeight[b] as number);
    parent[a] = next;
    parent[b] = next;
    next++;
  }
  const depth = new Int32Array(2 * n - 1);
  for (let node = 2 * n - 3; node >= 0; node--) depth[node] = (depth[parent[node] as number] as number) + 1;
  return Array.from(depth.subarray(0, n));
}

/**
 * Package-merge (Larmore & Hirschberg) over weights sorted ascending. Each
 * level only records whether an item is a leaf (its index) or a package (-1):
 * the packages chosen at a level are always a prefix, so their children are a
 * prefix of the level below, twice as long.
 */
function packageMerge(weights: readonly number[], maxCodeLength: number): number[] {
  const n = weights.length;
  const levels: Int32Array[] = [];
  let previousWeights = Float64Array.from(weights);
  let previousItems = Int32Array.from(weights, (_, i) => i);
  levels.push(previousItems);
  for (let level = 1; level < maxCodeLength; level++) {
    const packages = previousWeights.length >> 1;
    const size = n + packages;
    const mergedWeights = new Float64Array(size);
    const mergedItems = new Int32Array(size);
    let leaf = 0;
    let pack = 0;
    for (let k = 0; k < size; k++) {
      const packageWeight = pack < packages ? (previousWeights[2 * pack] as number) + (previousWeights[2 * pack + 1] as number) : Infinity;
      if (leaf < n && (weights[leaf] as number) <= packageWeight) {
        mergedWeights[k] = weights[leaf] as number;
        mergedItems[k] = leaf++;
      } else {
        mergedWeights[k] = packageWeight;
        mergedItems[k] = -1;
        pack++;
      }
    }
    previousWeights = mergedWeights;
    previousItems = mergedItems;
    levels.push(mergedItems);
  }
  const lengths = new Array<number>(n).fill(0);
  let take = 2 * n - 2;
  for (let level = levels.length - 1; level >= 0 && take > 0; level--) {
    const items = levels[level] as Int32Array;
    let packagesTaken = 0;
    for (let k = 0; k < take; k++) {
      const item = items[k] as number;
      if (item >= 0) lengths[item] = (lengths[item] as number) + 1;
      else packagesTaken++;
    }
    take = 2 * packagesTaken;
  }
  return lengths;
}
