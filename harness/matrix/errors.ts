/** A matrix file that cannot be used: the message names the file and the key path. */
export class MatrixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatrixError';
  }
}
