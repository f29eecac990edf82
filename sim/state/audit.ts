/** The audit log: one row per workspace create and per finished workspace build. */
import { isoNow, type SimTime, WALL_TIME } from '../clock.js';
import { newId, type SimAuditRow, type SimUser, type SimWorkspace } from '../model.js';
import type { Directory } from './directory.js';

/** The request an audited action came from. */
export interface RequestMeta {
  requestId: string;
  userAgent: string;
}

export class AuditLog {
  readonly rows: SimAuditRow[] = [];

  constructor(
    private readonly directory: Directory,
    private readonly time: SimTime = WALL_TIME,
  ) {}

  write(args: {
    caller: SimUser;
    ws: SimWorkspace;
    resourceType: SimAuditRow['resourceType'];
    action: SimAuditRow['action'];
    statusCode: number;
    requestMeta: RequestMeta;
    resourceId?: string;
    additionalFields: Record<string, string>;
  }): void {
    const owner = this.directory.userOf(args.ws.ownerId);
    this.rows.push({
      id: newId(),
      requestId: args.requestMeta.requestId,
      time: isoNow(this.time),
      userId: args.caller.id,
      orgId: args.ws.orgId,
      resourceType: args.resourceType,
      resourceId: args.resourceId ?? args.ws.id,
      resourceTarget: args.ws.name,
      resourceLink: `/@${owner.username}/${args.ws.name}`,
      action: args.action,
      statusCode: args.statusCode,
      additionalFields: args.additionalFields,
      userAgent: args.requestMeta.userAgent,
    });
  }
}
