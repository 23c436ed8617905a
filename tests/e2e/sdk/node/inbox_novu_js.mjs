// @novu/js (the client of Novu's <Inbox />), unmodified, against CLARION_URL as its backendUrl.
//   CLARION_INPUT  JSON {applicationIdentifier, subscriberId, subscriberHash?, workflowId?}
// Prints one JSON line: the session (or its error) and, if the session opened, what the client
// made of each call: counts, lists, read, archive, preferences.
import { Novu } from "@novu/js";

const url = process.env.CLARION_URL;
const input = JSON.parse(process.env.CLARION_INPUT ?? "{}");
if (!url || !input.applicationIdentifier) {
  console.error("set CLARION_URL and CLARION_INPUT");
  process.exit(2);
}

const novu = new Novu({
  applicationIdentifier: input.applicationIdentifier,
  subscriberId: input.subscriberId,
  subscriberHash: input.subscriberHash,
  backendUrl: url,
});

const session = await new Promise((resolve) => {
  novu.on("session.initialize.resolved", ({ data, error }) => resolve({ data, error }));
});

function plain(error) {
  if (!error) return undefined;
  const cause = error.originalError ?? error.cause;
  return { message: String(error.message), status: cause?.status ?? error.status, body: cause?.body ?? error.body };
}

function unwrap(result, what) {
  if (result.error) throw new Error(`${what}: ${JSON.stringify(plain(result.error))}`);
  return result.data;
}

const view = (n) => ({
  id: n.id,
  subject: n.subject,
  body: n.body,
  isRead: n.isRead,
  isArchived: n.isArchived,
  primaryAction: n.primaryAction,
  data: n.data,
  workflow: n.workflow?.identifier,
  channelType: n.channelType,
});

const out = { session: session.data ? { unread: session.data.unreadCount.total } : null, sessionError: plain(session.error) ?? null };
if (session.data) {
  const unreadFilter = { read: false, archived: false };
  try {
    out.unreadAtStart = unwrap(await novu.notifications.count(unreadFilter), "count").count;
    const listed = unwrap(await novu.notifications.list({ limit: 10, archived: false }), "list");
    out.listed = listed.notifications.map(view);
    out.hasMore = listed.hasMore;
    const [first, second] = listed.notifications;
    out.read = view(unwrap(await first.read(), "read"));
    out.unreadAfterRead = unwrap(await novu.notifications.count(unreadFilter), "count").count;
    out.archived = view(unwrap(await second.archive(), "archive"));
    out.counts = unwrap(
      await novu.notifications.count({ filters: [{ read: false, archived: false }, { archived: true }, { read: true }] }),
      "counts",
    ).counts.map((c) => c.count);
    const archivedList = unwrap(await novu.notifications.list({ archived: true, useCache: false }), "list archived");
    out.archivedIds = archivedList.notifications.map((n) => n.id);
    const preferences = unwrap(await novu.preferences.list(), "preferences");
    out.preferences = preferences.map((p) => ({ level: p.level, workflow: p.workflow?.identifier, channels: p.channels }));
    const mine = preferences.find((p) => p.workflow?.identifier === input.workflowId);
    if (mine) {
      const updated = unwrap(await mine.update({ channels: { in_app: false } }), "preference update");
      out.updatedPreference = { workflow: updated.workflow?.identifier, channels: updated.channels };
    }
    const global = preferences.find((p) => p.level === "global");
    const globalUpdated = unwrap(await global.update({ channels: { email: false } }), "global update");
    out.globalPreference = globalUpdated.channels;
  } catch (error) {
    out.error = String(error.message ?? error);
  }
}
console.log(JSON.stringify(out));
process.exit(0);
