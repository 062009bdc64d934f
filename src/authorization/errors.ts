import { ConflictError, NotFoundError } from '../errors.js';

export class RoleNotFoundError extends NotFoundError {
  constructor(role: string) {
    super(`There is no role ${role}.`);
  }
}

export class RoleExistsError extends ConflictError {
  constructor(name: string) {
    super(`A role named ${name} already exists.`);
  }
}

export class BuiltInRoleError extends ConflictError {
  constructor(name: string) {
    super(`The ${name} role is built in: it grants access to the admin API and cannot be deleted, renamed or lose the admin permission.`);
  }
}

export class ResourceServerNotFoundError extends NotFoundError {
  constructor(server: string) {
    super(`There is no resource server ${server}.`);
  }
}

export class ResourceServerExistsError extends ConflictError {
  constructor(identifier: string) {
    super(`A resource server ${identifier} already exists.`);
  }
}

export class BuiltInResourceServerError extends ConflictError {
  constructor(identifier: string) {
    super(`${identifier} is Latch's own API: it cannot be deleted or renamed, nor lose its admin permission.`);
  }
}

export class PermissionNotFoundError extends NotFoundError {
  /** An empty resource: the permission was named by its id. */
  constructor(resource: string, value: string) {
    super(resource === '' ? `There is no permission ${value}.` : `The resource server ${resource} has no permission ${value}.`);
  }
}

export class PermissionExistsError extends ConflictError {
  constructor(resource: string, value: string) {
    super(`The resource server ${resource} already has the permission ${value}.`);
  }
}

/** The user or client a role is assigned to does not exist. */
export class AssigneeNotFoundError extends NotFoundError {}
