/**
 * Moving the simulated BTC price of a running app, the way the regtest panel does.
 */
import type { BitStableNode } from '../../../core/app/bitstable-node';
import type { Cents } from '../../../core/money';

/**
 * Sets the simulated price and runs oracle rounds until it is accepted (a move beyond the circuit
 * breaker is held by the first round and confirmed by the second). Returns whether it was.
 */
export async function setPrice(app: BitStableNode, priceCents: number): Promise<boolean> {
  app.simulated!.setPrice(priceCents as Cents);
  const accepted = () =>
    app.oracle.current().status === 'ok' && app.oracle.current().priceCents === priceCents;
  for (let i = 0; i < 3 && !accepted(); i++) await app.oracle.runRound();
  return accepted();
}
