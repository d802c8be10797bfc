// The search benchmark's corpus: deterministic notes of 80 words drawn from a Zipf-distributed vocabulary of 4,000
// invented words, and two-word queries chosen so each matches about 1.5% of the documents.

/** Small deterministic PRNG (mulberry32) so every run indexes the same corpus. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';

/** `n` distinct invented words (three consonant-vowel syllables ending in a vowel: no English stem or stop word). */
function vocabulary(n, random) {
  const words = new Set();
  while (words.size < n) {
    let w = '';
    for (let s = 0; s < 3; s++) w += CONSONANTS[Math.floor(random() * CONSONANTS.length)] + VOWELS[Math.floor(random() * 3)];
    words.add(w);
  }
  return [...words];
}

/**
 * `count` documents of `words` words each (Zipf exponent 1 over `vocab` words) and `queries` two-word queries whose
 * both words occur together in `target` (a fraction) of the documents, give or take a third.
 */
export function makeCorpus({ count = 10_000, words = 80, vocab = 4_000, queries = 8, target = 0.015, seed = 18 } = {}) {
  const random = rng(seed);
  const vocabWords = vocabulary(vocab, random);
  const cumulative = [];
  let sum = 0;
  for (let k = 1; k <= vocab; k++) cumulative.push((sum += 1 / k));
  const draw = () => {
    const x = random() * sum;
    let lo = 0;
    let hi = vocab - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const docs = [];
  const sets = [];
  for (let i = 0; i < count; i++) {
    const ranks = Array.from({ length: words }, draw);
    sets.push(new Set(ranks));
    const text = ranks.map((r) => vocabWords[r]).join(' ');
    docs.push({ id: `bench_${String(i).padStart(5, '0')}`, title: `Note ${i}: ${vocabWords[ranks[0]]} ${vocabWords[ranks[1]]}`, text });
  }
  // Pairs of mid-frequency words whose co-occurrence is within a third of the target.
  const chosen = [];
  const want = target * count;
  for (let a = 20; a < 400 && chosen.length < queries; a += 7) {
    for (let b = a + 3; b < 400 && chosen.length < queries; b += 11) {
      let n = 0;
      for (const s of sets) if (s.has(a) && s.has(b)) n++;
      if (Math.abs(n - want) <= want / 3) {
        chosen.push({ query: `${vocabWords[a]} ${vocabWords[b]}`, matches: n });
        break;
      }
    }
  }
  return { docs, queries: chosen };
}
