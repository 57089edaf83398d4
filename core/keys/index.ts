/** Keys the node holds and where their secrets are kept (SPEC §4). */
export * from './keystore';
export * from './file-keystore';
export * from './passphrase-keystore';
export * from './software-key';
export * from './node-keys';
export * from './psbt-keys';
