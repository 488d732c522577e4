import { inject } from 'vitest';
import { Stack, type StackOptions } from './stack.js';

export { type Gateway, mintToken, StackProcess, TEST_JWT_SECRET } from './stack.js';

/** A stack on the servers the test run provisioned (containers or local; see global-setup). */
export class TestStack extends Stack {
  constructor(options: StackOptions = {}) {
    super(inject('infra'), options);
  }
}
