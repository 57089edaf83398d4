/**
 * A price source whose price is set by hand (UI, API or tests): the default on regtest, where
 * there is no market. It can also be told to fail, to exercise the oracle's fault handling.
 */
import type { Cents } from '../../money';
import { sourceError } from '../source-error';
import type { PriceSource, SourceQuote } from './types';

/** A PriceSource that answers whatever it was last set to. */
export class SimulatedSource implements PriceSource {
  readonly name: string;
  private priceCents: Cents | null;
  private failure: Error | null = null;
  private sourceTs: number | undefined;

  constructor(initialPriceCents: Cents | null = null, name = 'simulated') {
    this.name = name;
    this.priceCents = initialPriceCents;
  }

  /** Sets the price the next rounds will see. */
  setPrice(priceCents: Cents): void {
    this.priceCents = priceCents;
  }

  /** The price currently set, if any. */
  price(): Cents | null {
    return this.priceCents;
  }

  /** Makes every fetch fail with `error` until cleared with `null`. */
  setFailure(error: Error | null): void {
    this.failure = error;
  }

  /** Stamps answers with a source timestamp (tests of future/old prices); `undefined` for none. */
  setSourceTs(ms: number | undefined): void {
    this.sourceTs = ms;
  }

  async fetch(signal: AbortSignal): Promise<SourceQuote> {
    if (signal.aborted) throw sourceError(this.name, 'aborted', 'the request was cancelled.');
    if (this.failure) throw this.failure;
    if (this.priceCents === null) {
      throw sourceError(this.name, 'bad-price', 'no simulated price has been set yet.');
    }
    return this.sourceTs === undefined
      ? { priceCents: this.priceCents }
      : { priceCents: this.priceCents, sourceTs: this.sourceTs };
  }
}
