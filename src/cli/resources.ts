import type { ParseArgsConfig } from 'node:util';
import { presentPermission, presentServer } from '../api/admin/resource-servers.js';
import type { ResourceServers, ResourceServerView } from '../authorization/resource-servers.js';
import { didYouMean, parseOptions } from './arguments.js';
import { CLI_ACTOR, withAuthorization } from './authorization.js';
import { usageError, type Action, type CliContext, type Command } from './command.js';
import { printJson, printTable } from './output.js';

const USAGE = [
  'resources list [--json]                                   every resource server (API) and its permissions',
  'resources show <resource> [--json]                        one, by identifier (its URI) or id',
  'resources create <uri> [--name <name>] [--introspecting-client <client id>]... [--permission <value>]... [--json]',
  'resources update <resource> [--name <name>] [--introspecting-client <client id>]... [--json]   the clients given replace the list',
  "resources delete <resource>                               with its permissions, which leave every role",
  "resources permissions list <resource> [--json]            a resource server's permissions",
  'resources permissions add <resource> <value> [--description <text>] [--json]',
  'resources permissions update <resource> <value> --description <text> [--json]',
  'resources permissions remove <resource> <value>           it leaves every role that held it',
];

const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies ParseArgsConfig['options'];
const SERVER_OPTIONS = { ...JSON_OPTION, name: { type: 'string' }, 'introspecting-client': { type: 'string', multiple: true } } as const satisfies ParseArgsConfig['options'];
const SUBCOMMANDS = ['list', 'show', 'create', 'update', 'delete', 'permissions'];
const PERMISSION_SUBCOMMANDS = ['list', 'add', 'update', 'remove'];

export const resourcesCommand: Command = {
  name: 'resources',
  usage: USAGE,

  parse(args) {
    const [subcommand, ...rest] = args;
    switch (subcommand) {
      case 'list': {
        const { values } = exactly(rest, 0, 'list', JSON_OPTION);
        return (context) =>
          withAuthorization(context, async ({ resourceServers }) => {
            const all = await resourceServers.list();
            if (values.json) return printJson(context, { resource_servers: all.map(presentServer) });
            printTable(
              context,
              ['IDENTIFIER', 'NAME', 'PERMISSIONS', 'INTROSPECTING CLIENTS'],
              all.map((server) => [server.identifier, server.name ?? '', server.permissions.map(({ value }) => value).join(' '), server.introspectingClients.join(' ')]),
            );
          });
      }
      case 'show': {
        const { values, positionals: [server = ''] } = exactly(rest, 1, 'show', JSON_OPTION);
        return showing(values.json, (servers) => servers.show(server));
      }
      case 'create': {
        const { values, positionals: [identifier = ''] } = exactly(rest, 1, 'create', { ...SERVER_OPTIONS, permission: { type: 'string', multiple: true } });
        const server = { identifier, name: values.name, introspectingClients: values['introspecting-client'], permissions: values.permission };
        return showing(values.json, (servers) => servers.create(server, CLI_ACTOR), 'Created resource server');
      }
      case 'update': {
        const { values, positionals: [server = ''] } = exactly(rest, 1, 'update', SERVER_OPTIONS);
        if (values.name === undefined && values['introspecting-client'] === undefined) throw usageError('resources update needs --name or --introspecting-client', USAGE);
        return showing(values.json, (servers) => servers.update(server, { name: values.name, introspectingClients: values['introspecting-client'] }, CLI_ACTOR), 'Updated resource server');
      }
      case 'delete': {
        const { positionals: [server = ''] } = exactly(rest, 1, 'delete', {});
        return (context) =>
          withAuthorization(context, async ({ resourceServers }) => {
            await resourceServers.delete(server, CLI_ACTOR);
            context.print(`Deleted resource server ${server}: clients can no longer ask tokens for it, and its permissions left every role.`);
          });
      }
      case 'permissions':
        return parsePermissions(rest);
      case undefined:
        throw usageError('resources needs a subcommand', USAGE);
      default:
        throw usageError(`unknown subcommand: resources ${subcommand}.${didYouMean(subcommand, SUBCOMMANDS)}`, USAGE);
    }
  },
};

function parsePermissions(args: string[]): Action {
  const [subcommand, ...rest] = args;
  const form = `permissions ${subcommand ?? ''}`.trim();
  switch (subcommand) {
    case 'list': {
      const { values, positionals: [server = ''] } = exactly(rest, 1, form, JSON_OPTION);
      return (context) =>
        withAuthorization(context, async ({ resourceServers }) => {
          const { permissions } = await resourceServers.show(server);
          if (values.json) return printJson(context, { permissions: permissions.map(presentPermission) });
          printTable(context, ['PERMISSION', 'DESCRIPTION'], permissions.map(({ value, description }) => [value, description ?? '']));
        });
    }
    case 'add': {
      const { values, positionals: [server = '', value = ''] } = exactly(rest, 2, form, { ...JSON_OPTION, description: { type: 'string' } });
      return showing(values.json, (servers) => servers.addPermission(server, { value, description: values.description }, CLI_ACTOR), `Added ${value} to resource server`);
    }
    case 'update': {
      const { values, positionals: [server = '', value = ''] } = exactly(rest, 2, form, { ...JSON_OPTION, description: { type: 'string' } });
      if (values.description === undefined) throw usageError('resources permissions update needs --description', USAGE);
      return showing(values.json, (servers) => servers.updatePermission(server, value, { description: values.description ?? null }, CLI_ACTOR), `Updated ${value} of resource server`);
    }
    case 'remove': {
      const { positionals: [server = '', value = ''] } = exactly(rest, 2, form, {});
      return (context) =>
        withAuthorization(context, async ({ resourceServers }) => {
          await resourceServers.removePermission(server, value, CLI_ACTOR);
          context.print(`Removed ${value} from ${server}: it left every role that held it, and the next tokens no longer carry it.`);
        });
    }
    case undefined:
      throw usageError('resources permissions needs a subcommand: list, add, update or remove', USAGE);
    default:
      throw usageError(`unknown subcommand: resources permissions ${subcommand}.${didYouMean(subcommand, PERMISSION_SUBCOMMANDS)}`, USAGE);
  }
}

/** Runs the change (or read) and prints the resource server as it is after it. */
function showing(json: boolean | undefined, work: (servers: ResourceServers) => Promise<ResourceServerView>, done?: string): Action {
  return (context) =>
    withAuthorization(context, async ({ resourceServers }) => {
      const server = await work(resourceServers);
      if (json) return printJson(context, presentServer(server));
      printServer(server, context, done);
    });
}

function printServer(server: ResourceServerView, context: CliContext, done?: string): void {
  if (done !== undefined) context.print(`${done} ${server.identifier}.`);
  context.print(`Identifier:              ${server.identifier}`);
  context.print(`ID:                      ${server.id}`);
  context.print(`Name:                    ${server.name ?? '-'}`);
  context.print(`Introspecting clients:   ${server.introspectingClients.join(' ') || '-'}`);
  if (server.permissions.length === 0) return context.print('Permissions:             none');
  context.print('Permissions:');
  printTable(context, ['  PERMISSION', 'DESCRIPTION'], server.permissions.map(({ value, description }) => [`  ${value}`, description ?? '']));
}

function exactly<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], count: number, form: string, options: O) {
  const parsed = parseOptions(args, options, `resources ${form}`, USAGE);
  if (parsed.positionals.length !== count) {
    const wanted = count === 0 ? 'no arguments' : count === 1 ? 'exactly one resource server (its URI or id)' : 'a resource server (its URI or id) and a permission';
    throw usageError(`resources ${form} takes ${wanted}, got: ${parsed.positionals.join(' ') || 'none'}`, USAGE);
  }
  return parsed;
}
