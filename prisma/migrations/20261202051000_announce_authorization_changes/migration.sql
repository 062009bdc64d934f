-- Every change to what tokens are issued from (resource servers, permissions, roles, their
-- permissions, and who holds them) is announced on latch_authorization when it commits, whoever
-- made it: the admin API, the CLI, an import, or a cascade from a deleted user, client or role.
-- Each Latch process caches these rows and drops them on the notice (src/authorization/).
-- PostgreSQL folds the identical notices of one transaction into one.
-- The body's semicolons are written \073: Prisma's pg adapter runs a migration as the pieces
-- between its semicolons, quoted or not.
CREATE FUNCTION "latch_announce_authorization"() RETURNS trigger LANGUAGE plpgsql AS E'BEGIN PERFORM pg_notify(\'latch_authorization\', \'\')\073 RETURN NULL\073 END';

CREATE TRIGGER "resource_servers_announce" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "resource_servers" FOR EACH STATEMENT EXECUTE FUNCTION "latch_announce_authorization"();
CREATE TRIGGER "permissions_announce" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "permissions" FOR EACH STATEMENT EXECUTE FUNCTION "latch_announce_authorization"();
CREATE TRIGGER "roles_announce" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "roles" FOR EACH STATEMENT EXECUTE FUNCTION "latch_announce_authorization"();
CREATE TRIGGER "role_permissions_announce" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "role_permissions" FOR EACH STATEMENT EXECUTE FUNCTION "latch_announce_authorization"();
CREATE TRIGGER "user_roles_announce" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "user_roles" FOR EACH STATEMENT EXECUTE FUNCTION "latch_announce_authorization"();
CREATE TRIGGER "client_roles_announce" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "client_roles" FOR EACH STATEMENT EXECUTE FUNCTION "latch_announce_authorization"();
