/**
 * Adaptive DEPLOY_CHUNK size: the deploy sender's answer to a lossy link, in the spirit of
 * 802.11's fragmentation threshold. A frame of L wire bytes survives a link that loses (or
 * corrupts) each byte with probability p with probability (1-p)^L, so a large chunk that is
 * efficient on a clean line is lost almost every time on a noisy one (at 1% byte loss a 512-byte
 * frame dies 99% of the time), and a tiny chunk wastes the line on headers.
 *
 * The sizer estimates p from what the sender observes — chunks that arrived intact and chunks the
 * device reported missing — with exponentially decayed sums (a loss is charged half a frame of
 * exposure: on average the fatal byte is in the middle), and picks the chunk size that maximises
 * the expected goodput of go-back-N:
 *
 *     goodput(n) = n / wire(n) · s / (1 + w · (1 − s)),  s = (1 − p)^wire(n)
 *
 * where w − 1 chunks are in flight behind a lost one (the device drops them; they are sent
 * again). Clean observations decay the loss estimate, so the size grows back when the line
 * clears. The window stays what was negotiated: choosing it too from a model of the ack's
 * turnaround was tried and lost to the fixed window in bench/link's sweep (a timer tight enough
 * to pay off misfires on merely late acks, which then read as losses). Pure: no I/O, no clock.
 */
export interface ChunkSizerOptions {
  /** Largest chunk (the offer's chunkSize, already within the negotiated frame). */
  max: number;
  /** Smallest chunk the sizer may choose. */
  min: number;
  /** Wire bytes of a chunk carrying n data bytes (deployChunkWireSize). */
  wireBytes(n: number): number;
  /** Chunks in flight at once (the go-back-N window). */
  window: number;
  /** Weight kept per observation (memory of about 1/(1−decay) chunks). */
  decay?: number;
  /**
   * Byte loss assumed before anything was observed (as one loss in 1/prior bytes, decaying like
   * the rest). 0 starts at the largest chunk; a lossy line's first chunks are smaller, so that
   * some of them arrive and the sender learns the line instead of retransmitting frames that
   * cannot get through.
   */
  priorByteLoss?: number;
}

/** Candidate sizes are spaced ~8% apart: finer than the goodput curve's width around its peak. */
const GRID_STEP = 1.08;

export class ChunkSizer {
  private losses = 0;
  private exposure = 0;
  private size: number;
  private sinceBest = 0;
  private readonly grid: number[];
  private readonly decay: number;

  constructor(private readonly o: ChunkSizerOptions) {
    this.decay = o.decay ?? 0.97;
    const max = Math.max(1, o.max);
    const min = Math.max(1, Math.min(o.min, max));
    const grid: number[] = [];
    for (let n = min; n < max; n = Math.max(n + 1, Math.floor(n * GRID_STEP))) grid.push(n);
    grid.push(max);
    this.grid = grid;
    this.size = max;
    if (o.priorByteLoss && o.priorByteLoss > 0) {
      this.losses = 1;
      this.exposure = 1 / o.priorByteLoss;
      this.choose();
    }
  }

  /** The chunk size to send next. */
  get current(): number {
    return this.size;
  }


  /** Estimated probability that a byte is lost or corrupted on the link. */
  get byteLossRate(): number {
    return this.exposure > 0 ? this.losses / this.exposure : 0;
  }

  /** A chunk of n data bytes arrived intact (the device's cumulative ack covers it). */
  delivered(n: number): void {
    this.observe(this.o.wireBytes(n), 0);
  }

  /** A chunk of n data bytes was lost (the device answered with its offset still at the chunk). */
  lost(n: number): void {
    this.observe(this.o.wireBytes(n) / 2, 1);
  }

  private observe(exposure: number, loss: number): void {
    this.losses = this.losses * this.decay + loss;
    this.exposure = this.exposure * this.decay + exposure;
    // The optimum moves slowly: re-deriving it on every fourth observation (and on every loss) is plenty.
    if (loss > 0 || ++this.sinceBest >= 4) {
      this.sinceBest = 0;
      this.choose();
    }
  }

  /** Expected goodput (fraction of the line) of chunks of n bytes at byte loss p. */
  goodput(n: number, p = this.byteLossRate): number {
    const wire = this.o.wireBytes(n);
    const s = Math.pow(1 - Math.min(p, 0.999999), wire);
    return ((n / wire) * s) / (1 + Math.max(0, this.o.window - 1) * (1 - s));
  }

  private choose(): void {
    const p = this.byteLossRate;
    if (p === 0) {
      this.size = this.grid[this.grid.length - 1]!;
      return;
    }
    let bestG = -1;
    for (const n of this.grid) {
      const g = this.goodput(n, p);
      if (g > bestG) {
        bestG = g;
        this.size = n;
      }
    }
  }

}
