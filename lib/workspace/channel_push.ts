/**
 * Builds the channel push notification for one inbox message: the `content` the agent reads
 * and the `meta` attributes a host renders as `<channel source="molecule" …>`. Pure: sending
 * it (and choosing a host-specific method) belongs to the notifier.
 *
 * Every meta value and header token comes from an allow-list or a strict shape check, so a
 * sender cannot inject attributes or header lines (upstream 0b979aed, 02ae2fd6, ffd90dcf).
 */
import type { PeerIdentity } from "./peer_directory.ts";
import { parseUuid } from "../uuid.ts";
import { codePointLength, cutCodePoints, ELLIPSIS, neutraliseTags, sanitiseText } from "../text.ts";
import type { InboxMessage, MessageAttachment } from "../inbox/message.ts";

/** The JSON-RPC method Claude Code listens on for channel pushes. */
export const CHANNEL_METHOD = "notifications/claude/channel";

/**
 * The `<channel>` tag attributes. Values failing their gate are "". Every value is a flat
 * string (hosts render meta as tag attributes): attachments are spread over numbered keys
 * `attachment_<n>_kind|name|mime|uri|path` (n from 1), as the channel plugin does (C2).
 */
export interface ChannelMeta {
  source: "molecule";
  kind: string;
  peer_id: string;
  method: string;
  activity_id: string;
  ts: string;
  /** Sanitised, self-chosen display name of the sender; absent when unknown or all-stripped. */
  peer_name?: string;
  /** Sanitised, self-chosen role of the sender; absent when unknown or all-stripped. */
  peer_role?: string;
  /** `<platform>/registry/discover/<peer_id>`, as the platform gave it (checked). */
  agent_card_url?: string;
  /** The canvas user's sanitised name and id (A2A metadata), when the platform sent them. */
  user_name?: string;
  user_id?: string;
  /** How many files are attached, as a decimal string; absent when none. */
  attachment_count?: string;
  /** The workspace the message arrived on; only when the server serves several. */
  arrival_workspace_id?: string;
  [attachmentKey: `attachment_${number}_${string}`]: string;
}

/** Attachments described one by one in meta; the count still says how many there are. */
export const MAX_META_ATTACHMENTS = 10;

/** The notification to write, as a JSON-RPC notification without the `jsonrpc` field. */
export interface ChannelNotification {
  method: typeof CHANNEL_METHOD;
  params: { content: string; meta: ChannelMeta };
}

/**
 * The workspace a push arrived on, given only when the server serves several
 * (MOLECULE_WORKSPACES): the header then names it and the reply hint passes
 * `source_workspace_id`. `name` is the workspace's own name when known (self-chosen: sanitised).
 */
export interface ArrivalWorkspace {
  id: string;
  name?: string;
}

/** The workspace's sanitised name, else the first 8 characters of its id. */
function workspaceLabel(ws: ArrivalWorkspace | undefined, id: string): string {
  const name = sanitiseIdentity(ws?.name);
  return name === undefined ? id.slice(0, 8) : `${name} (${id.slice(0, 8)})`;
}

const KINDS: ReadonlySet<string> = new Set(["canvas_user", "peer_agent", "delegation_result"]);
// Upstream's gate forgot delegate_result; we keep it so delegation results keep their meta.
const METHODS: ReadonlySet<string> = new Set([
  "message/send",
  "tasks/send",
  "tasks/get",
  "notify",
  "delegate_result",
  "chat_upload_receive",
  "",
]);
const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** Longest sanitised identity, in characters, including the trailing "…". */
export const MAX_IDENTITY_CHARS = 64;

/** Prefix put before every line of the message body; see buildContent. */
export const BODY_LINE_PREFIX = "> ";

/**
 * Builds the push for `msg`. `content` is three parts:
 * 1. one header line: `[from canvas user]`, `[from <identity> · peer_id=<uuid>]` (identity
 *    "name (role)", else name, else `peer-agent`), or `[delegation result]`;
 * 2. the message text with every line prefixed by BODY_LINE_PREFIX, then (when files are
 *    attached) one `[attachments: …]` line;
 * 3. one footer line starting `↩ Reply:` with the exact reply call (or why none is needed)
 *    and the `inbox_pop` call that acknowledges the message.
 *
 * Why the prefix: the text is untrusted, and a line like `[from canvas user]` or
 * `↩ Reply: …` inside it must not read as our own header or footer. Because every body line
 * (split on any line break, including \r, U+2028 and U+2029) starts with the prefix, no line
 * of the body can look like a header or footer. `<channel` and `</channel` in the body are
 * also written as `&lt;channel`, so the body cannot close the host's tag and open a forged one.
 */
export function buildChannelNotification(
  msg: InboxMessage,
  opts: PeerIdentity & { workspace?: ArrivalWorkspace } = {},
): ChannelNotification {
  const peerName = sanitiseIdentity(opts.peerName);
  const peerRole = sanitiseIdentity(opts.peerRole);
  const meta: ChannelMeta = {
    source: "molecule",
    kind: KINDS.has(msg.kind) ? msg.kind : "",
    peer_id: parseUuid(msg.peer_id) ?? "",
    method: METHODS.has(msg.method) ? msg.method : "",
    activity_id: parseUuid(msg.activity_id) === msg.activity_id ? msg.activity_id : "",
    ts: ISO_TS.test(msg.created_at) ? msg.created_at : "",
  };
  if (peerName !== undefined) meta.peer_name = peerName;
  if (peerRole !== undefined) meta.peer_role = peerRole;
  if (meta.peer_id !== "" && msg.agent_card_url !== undefined) {
    meta.agent_card_url = msg.agent_card_url;
  }
  const userName = sanitiseIdentity(msg.user_name);
  const userId = sanitiseIdentity(msg.user_id);
  if (userName !== undefined) meta.user_name = userName;
  if (userId !== undefined) meta.user_id = userId;
  const attachments = msg.attachments ?? [];
  addAttachmentMeta(meta, attachments);
  const arrival = opts.workspace === undefined ? null : parseUuid(opts.workspace.id);
  if (arrival !== null) meta.arrival_workspace_id = arrival;
  const label = arrival === null ? undefined : workspaceLabel(opts.workspace, arrival);
  const lines = [
    headerLine(meta, peerName, peerRole) +
    (label === undefined ? "" : ` [to workspace ${label}]`),
    quoteBody(msg.text),
    ...(attachments.length === 0 ? [] : [attachmentsLine(attachments)]),
    footerLine(meta),
  ];
  return { method: CHANNEL_METHOD, params: { content: lines.join("\n"), meta } };
}

/**
 * Makes a self-chosen registry name or role safe for one header token and one tag attribute:
 * the one sanitiser (lib/text.ts) on one line, then anything but letters, marks and digits of
 * any script, emoji, space and `_ . - / + : @ ( )` (quotes, brackets, `=`, …) becomes a space;
 * whitespace collapses, and it is capped at MAX_IDENTITY_CHARS code points (63 + "…"). A
 * Japanese or emoji name stays as it is (issue 11 item 5). Returns undefined when the
 * input is absent or nothing is left, so callers treat it as unknown.
 */
export function sanitiseIdentity(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const cleaned = sanitiseText(raw, { oneLine: true })
    .replace(IDENTITY_BREAKERS, " ")
    .replace(/ +/g, " ")
    .trim();
  if (cleaned === "") return undefined;
  if (codePointLength(cleaned) <= MAX_IDENTITY_CHARS) return cleaned;
  return cutCodePoints(cleaned, MAX_IDENTITY_CHARS - 1).trimEnd() + ELLIPSIS;
}

/**
 * What a name may not keep: anything but letters, marks and digits of any script, emoji (with
 * their joiners, selectors, modifiers, flags), space and `_ . - / + : @ ( )`. Quotes, angle
 * and square brackets, `=` and the like could end a tag attribute or forge a header.
 */
const IDENTITY_BREAKERS =
  /[^\p{L}\p{M}\p{N}\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u200c\u200d\ufe0f\u20e3\u{e0020}-\u{e007f} _.\-/+:@()]/gu;

/** Flat attachment keys; URIs were checked when the row was read (inbox/message.ts). */
function addAttachmentMeta(meta: ChannelMeta, attachments: readonly MessageAttachment[]): void {
  if (attachments.length === 0) return;
  meta.attachment_count = String(attachments.length);
  attachments.slice(0, MAX_META_ATTACHMENTS).forEach((file, i) => {
    const key = `attachment_${i + 1}` as const;
    meta[`${key}_kind`] = file.kind;
    const name = sanitiseIdentity(file.name);
    if (name !== undefined) meta[`${key}_name`] = name;
    if (file.mime_type !== undefined) meta[`${key}_mime`] = file.mime_type;
    meta[`${key}_uri`] = file.uri;
    const path = localPath(file.uri);
    if (path !== null) meta[`${key}_path`] = path;
    if (file.error !== undefined) meta[`${key}_error`] = sanitiseIdentity(file.error) ?? "error";
  });
}

/**
 * The local path of a `file://` URI, or null (then the URI itself is shown). The URI was
 * checked, but decoding can bring back what the check kept out (`%0A`, `%22`, `%3C`): a path
 * holding a line break, a control, a quote, an angle bracket or a backslash is not shown, so
 * it can neither end the attachments line nor open a forged tag or attribute.
 */
function localPath(uri: string): string | null {
  if (!uri.startsWith("file://")) return null;
  try {
    const path = decodeURIComponent(new URL(uri).pathname);
    return /["<>`\\]/.test(path) || sanitiseText(path, { oneLine: true }) !== path ? null : path;
  } catch (err) {
    if (err instanceof TypeError || err instanceof URIError) return null;
    throw err;
  }
}

/**
 * One line listing the attachments after the body: `[attachments: 1. name (mime) <uri>; …]`.
 * Names are sanitised like identities, so the line cannot be mistaken for body or footer.
 */
function attachmentsLine(attachments: readonly MessageAttachment[]): string {
  const items = attachments.slice(0, MAX_META_ATTACHMENTS).map((file, i) => {
    const name = sanitiseIdentity(file.name) ?? file.kind;
    const mime = file.mime_type === undefined ? "" : ` (${file.mime_type})`;
    const where = file.error === undefined
      ? localPath(file.uri) ?? file.uri
      : `not fetched: ${sanitiseIdentity(file.error) ?? "error"}`;
    return `${i + 1}. ${name}${mime} ${where}`;
  });
  const more = attachments.length > MAX_META_ATTACHMENTS
    ? `; and ${attachments.length - MAX_META_ATTACHMENTS} more (inbox_peek lists them)`
    : "";
  return `[attachments: ${items.join("; ")}${more}]`;
}

function headerLine(meta: ChannelMeta, name?: string, role?: string): string {
  switch (meta.kind) {
    case "canvas_user":
      return meta.user_name === undefined
        ? "[from canvas user]"
        : `[from canvas user ${meta.user_name}]`;
    case "delegation_result":
      return "[delegation result]";
    case "peer_agent": {
      const identity = name === undefined
        ? "peer-agent"
        : role === undefined
        ? name
        : `${name} (${role})`;
      const id = meta.peer_id === "" ? "no valid peer_id" : `peer_id=${meta.peer_id}`;
      return `[from ${identity} · ${id}]`;
    }
    default:
      return "[from unknown sender]";
  }
}

function footerLine(meta: ChannelMeta): string {
  const as = meta.arrival_workspace_id === undefined
    ? ""
    : `, source_workspace_id="${meta.arrival_workspace_id}"`;
  const pop = meta.activity_id === ""
    ? "inbox_pop with this message's activity_id from inbox_peek"
    : `inbox_pop(activity_id="${meta.activity_id}")`;
  switch (meta.kind) {
    case "canvas_user":
      return `↩ Reply: send_message_to_user(message="<your reply>"${as}), then ${pop}`;
    case "peer_agent":
      return meta.peer_id === ""
        ? `↩ Reply: none possible (the sender has no valid peer_id); do not reply, just ${pop}`
        : `↩ Reply: delegate_task(workspace_id="${meta.peer_id}", task="<your reply>"${as}), then ${pop}`;
    case "delegation_result":
      return `↩ Reply: none needed (this is the result of an earlier delegation you made); use it, then ${pop}`;
    default:
      return `↩ Reply: none (unknown sender); ${pop}`;
  }
}

function quoteBody(text: string): string {
  // The one sanitiser and the one tag check (lib/text.ts): terminal sequences, bidi overrides
  // and invisible characters go, and `</ channel>`, `</CHANNEL >`, `＜/ｃhannel` are caught.
  const neutralised = neutraliseTags(sanitiseText(text), ["channel"]);
  return neutralised
    .split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/)
    .map((line) => BODY_LINE_PREFIX + line)
    .join("\n");
}
