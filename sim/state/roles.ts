/** Who may see and do what: the RBAC rules the simulator applies, by site role. */
import type { SimUser, SimWorkspace } from '../model.js';

export function isOwner(user: SimUser): boolean {
  return user.roles.includes('owner');
}

/** Owners and template admins manage templates and receive template-admin notifications. */
export function isTemplateAdmin(user: SimUser): boolean {
  return user.roles.includes('owner') || user.roles.includes('template-admin');
}

export function canManageProvisioners(user: SimUser): boolean {
  return isTemplateAdmin(user) || user.roles.includes('organization-admin');
}

export function canReadAudit(user: SimUser): boolean {
  return isOwner(user) || user.roles.includes('auditor');
}

export function canSeeOrg(caller: SimUser, orgId: string): boolean {
  return isOwner(caller) || caller.orgIds.includes(orgId);
}

export function canSeeWorkspace(caller: SimUser, ws: SimWorkspace): boolean {
  return isOwner(caller) || ws.ownerId === caller.id;
}
