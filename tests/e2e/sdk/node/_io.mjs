// Shared by the SDK scripts: read what to send from the environment, print one JSON line.
//   CLARION_URL      base URL of the stack (or of a capture proxy in front of it)
//   CLARION_API_KEY  the environment's API key, given to the SDK as its secret key
//   CLARION_INPUT    JSON: an array of Novu events for a bulk, one event for a single trigger
// Exit code 0 whenever the SDK call returned or threw: the caller reads {ok, ...} to judge.

export function input() {
  const url = process.env.CLARION_URL;
  const key = process.env.CLARION_API_KEY;
  if (!url || !key || !process.env.CLARION_INPUT) {
    console.error("set CLARION_URL, CLARION_API_KEY and CLARION_INPUT");
    process.exit(2);
  }
  return { url, key, data: JSON.parse(process.env.CLARION_INPUT) };
}

function plainHeaders(headers) {
  if (!headers) return undefined;
  if (typeof headers.toJSON === "function") return headers.toJSON(); // axios
  if (typeof headers.entries === "function") return Object.fromEntries(headers.entries()); // fetch
  return { ...headers };
}

export function printResult(fields) {
  console.log(JSON.stringify({ ok: true, ...fields }));
}

export function printError(error) {
  console.log(
    JSON.stringify({
      ok: false,
      error: {
        class: error?.constructor?.name,
        name: error?.name,
        message: String(error?.message ?? error),
        statusCode: error?.statusCode ?? error?.response?.status,
        body: error?.body ?? error?.response?.data,
        headers: plainHeaders(error?.headers ?? error?.response?.headers),
        rawValue: error?.rawValue,
        cause: error?.cause ? String(error.cause) : undefined,
      },
    }),
  );
}
