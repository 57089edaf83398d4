/** The kill soak's key store passphrase, shared by the child process and the parent's restarts. */
export const KILL_SOAK_PASSPHRASE = 'kill-soak passphrase (regtest only)';
