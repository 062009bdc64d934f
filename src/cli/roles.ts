import type { ParseArgsConfig } from 'node:util';
import { presentRole } from '../api/admin/roles.js';
import type { Roles, RoleView } from '../authorization/roles.js';
import { didYouMean, parseOptions } from './arguments.js';
import { CLI_ACTOR, withAuthorization } from './authorization.js';
import { usageError, type Action, type CliContext, type Command } from './command.js';
import { printJson, printTable } from './output.js';

const USAGE = [
  'roles list [--json]                                       every role and the permissions it holds',
  'roles show <role> [--json]                                a role (by name or id)',
  'roles create <name> [--description <text>] [--json]       a role holding no permission yet',
  'roles update <role> [--name <name>] [--description <text>] [--json]',
  'roles delete <role>                                       every user and client loses it',
  'roles grant <role> <resource> <permission>... [--json]    the role holds these permissions of the resource server',
  'roles revoke <role> <resource> <permission>... [--json]   it no longer does; the next tokens drop them',
];

const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies ParseArgsConfig['options'];
const SUBCOMMANDS = ['list', 'show', 'create', 'update', 'delete', 'grant', 'revoke'];

export const rolesCommand: Command = {
  name: 'roles',
  usage: USAGE,

  parse(args) {
    const [subcommand, ...rest] = args;
    switch (subcommand) {
      case 'list': {
        const { values } = exactly(rest, 0, 'list', JSON_OPTION);
        return (context) =>
          withAuthorization(context, async ({ roles }) => {
            const all = await roles.list();
            if (values.json) return printJson(context, { roles: all.map(presentRole) });
            printTable(context, ['NAME', 'DESCRIPTION', 'PERMISSIONS'], all.map((role) => [role.name, role.description ?? '', permissionsOf(role)]));
          });
      }
      case 'show': {
        const { values, positionals: [role = ''] } = exactly(rest, 1, 'show', JSON_OPTION);
        return showing(values.json, (roles) => roles.show(role));
      }
      case 'create': {
        const { values, positionals: [name = ''] } = exactly(rest, 1, 'create', { ...JSON_OPTION, description: { type: 'string' } });
        return showing(values.json, (roles) => roles.create({ name, description: values.description }, CLI_ACTOR), 'Created role');
      }
      case 'update': {
        const { values, positionals: [role = ''] } = exactly(rest, 1, 'update', { ...JSON_OPTION, name: { type: 'string' }, description: { type: 'string' } });
        if (values.name === undefined && values.description === undefined) throw usageError('roles update needs --name or --description', USAGE);
        return showing(values.json, (roles) => roles.update(role, { name: values.name, description: values.description }, CLI_ACTOR), 'Updated role');
      }
      case 'delete': {
        const { positionals: [role = ''] } = exactly(rest, 1, 'delete', {});
        return (context) =>
          withAuthorization(context, async ({ roles }) => {
            await roles.delete(role, CLI_ACTOR);
            context.print(`Deleted role ${role}: no user or client holds it any more, and their next tokens carry none of its permissions.`);
          });
      }
      case 'grant':
      case 'revoke': {
        const { values, positionals } = parseOptions(rest, JSON_OPTION, `roles ${subcommand}`, USAGE);
        const [role, resource, ...permissions] = positionals;
        if (role === undefined || resource === undefined || permissions.length === 0) throw usageError(`roles ${subcommand} takes a role, a resource server and at least one permission`, USAGE);
        const references = permissions.map((value) => ({ resource, value }));
        return showing(values.json, (roles) => (subcommand === 'grant' ? roles.grant(role, references, CLI_ACTOR) : roles.revoke(role, references, CLI_ACTOR)), subcommand === 'grant' ? 'Granted; role' : 'Revoked; role');
      }
      case undefined:
        throw usageError('roles needs a subcommand', USAGE);
      default:
        throw usageError(`unknown subcommand: roles ${subcommand}.${didYouMean(subcommand, SUBCOMMANDS)}`, USAGE);
    }
  },
};

/** Runs the change (or read) and prints the role as it is after it. */
function showing(json: boolean | undefined, work: (roles: Roles) => Promise<RoleView>, done?: string): Action {
  return (context) =>
    withAuthorization(context, async ({ roles }) => {
      const role = await work(roles);
      if (json) return printJson(context, presentRole(role));
      printRole(role, context, done);
    });
}

function printRole(role: RoleView, context: CliContext, done?: string): void {
  if (done !== undefined) context.print(`${done} ${role.name}.`);
  context.print(`Role:          ${role.name}`);
  context.print(`ID:            ${role.id}`);
  context.print(`Description:   ${role.description ?? '-'}`);
  if (role.permissions.length === 0) return context.print('Permissions:   none');
  context.print('Permissions:');
  printTable(context, ['  RESOURCE SERVER', 'PERMISSION'], role.permissions.map(({ resource, value }) => [`  ${resource}`, value]));
}

const permissionsOf = (role: RoleView) => role.permissions.map(({ resource, value }) => `${value} (${resource})`).join(', ');

function exactly<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], count: number, form: string, options: O) {
  const parsed = parseOptions(args, options, `roles ${form}`, USAGE);
  if (parsed.positionals.length !== count) throw usageError(`roles ${form} takes ${count === 0 ? 'no arguments' : 'exactly one role name or id'}, got: ${parsed.positionals.join(' ') || 'none'}`, USAGE);
  return parsed;
}
