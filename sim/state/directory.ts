/** Users and organizations: who exists, how `{user}` and `{organization}` resolve. */
import { isoNow, type SimTime, WALL_TIME } from '../clock.js';
import { notFound } from '../errors.js';
import { newId, newSessionToken, type SimOrganization, type SimUser } from '../model.js';
import { canSeeOrg } from './roles.js';
import { isUuid, NIL_UUID } from './uuid.js';

export class Directory {
  readonly users = new Map<string, SimUser>();
  readonly orgs = new Map<string, SimOrganization>();
  private readonly usersByName = new Map<string, SimUser>();
  private readonly usersByToken = new Map<string, SimUser>();

  constructor(private readonly time: SimTime = WALL_TIME) {}

  userByToken(token: string): SimUser | undefined {
    return this.usersByToken.get(token);
  }

  userByName(username: string): SimUser | undefined {
    return this.usersByName.get(username.toLowerCase());
  }

  defaultOrg(): SimOrganization {
    for (const org of this.orgs.values()) if (org.isDefault) return org;
    throw new Error('the simulator has no default organization');
  }

  /** `{user}`: a UUID, a username or `me`. */
  resolveUser(ref: string, caller: SimUser): SimUser {
    if (ref === 'me') return caller;
    const user = isUuid(ref) ? this.users.get(ref.toLowerCase()) : this.userByName(ref);
    if (user === undefined) throw notFound();
    return user;
  }

  /** `{organization}`: a UUID, a name, the literal `default`, or the nil UUID for legacy callers. */
  resolveOrg(ref: string, caller: SimUser | undefined): SimOrganization {
    let org: SimOrganization | undefined;
    if (ref === 'default' || ref === NIL_UUID) org = this.defaultOrg();
    else if (isUuid(ref)) org = this.orgs.get(ref.toLowerCase());
    else org = [...this.orgs.values()].find((o) => o.name === ref.toLowerCase());
    if (org === undefined) throw notFound();
    if (caller !== undefined && !canSeeOrg(caller, org.id)) throw notFound();
    return org;
  }

  /** A seeding option's organization, the default one when omitted. */
  orgOrDefault(ref: string | undefined): SimOrganization {
    return ref === undefined ? this.defaultOrg() : this.resolveOrg(ref, undefined);
  }

  orgOf(id: string): SimOrganization {
    const org = this.orgs.get(id);
    if (org === undefined) throw new Error(`unknown organization ${id}`);
    return org;
  }

  userOf(id: string): SimUser {
    const user = this.users.get(id);
    if (user === undefined) throw new Error(`unknown user ${id}`);
    return user;
  }

  addOrganization(o: { name: string; isDefault?: boolean }): SimOrganization {
    const name = o.name.toLowerCase();
    if ([...this.orgs.values()].some((x) => x.name === name)) throw new Error(`organization ${name} exists`);
    if (o.isDefault === true) for (const other of this.orgs.values()) other.isDefault = false;
    const org: SimOrganization = {
      id: newId(),
      name,
      displayName: o.name,
      isDefault: o.isDefault === true || this.orgs.size === 0,
      createdAt: isoNow(this.time),
    };
    this.orgs.set(org.id, org);
    return org;
  }

  addUser(u: {
    username: string;
    email?: string;
    roles?: string[];
    organizations?: string[];
    id?: string;
  }): SimUser {
    const key = u.username.toLowerCase();
    if (this.usersByName.has(key)) throw new Error(`user ${u.username} exists`);
    const orgIds =
      u.organizations === undefined
        ? [this.defaultOrg().id]
        : u.organizations.map((ref) => this.resolveOrg(ref, undefined).id);
    if (u.id !== undefined && (!isUuid(u.id) || this.users.has(u.id.toLowerCase()))) {
      throw new Error(`user id ${u.id} is not a UUID or is taken`);
    }
    const user: SimUser = {
      id: u.id?.toLowerCase() ?? newId(),
      username: u.username,
      email: u.email ?? `${key}@coder.example.com`,
      name: u.username,
      roles: u.roles ?? [],
      orgIds,
      token: newSessionToken(),
      createdAt: isoNow(this.time),
    };
    this.users.set(user.id, user);
    this.usersByName.set(key, user);
    this.usersByToken.set(user.token, user);
    return user;
  }
}
