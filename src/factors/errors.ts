import { NotFoundError } from '../errors.js';

export class FactorNotFoundError extends NotFoundError {
  constructor() {
    super('The user has no such factor.');
  }
}
