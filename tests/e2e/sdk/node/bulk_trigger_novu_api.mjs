// @novu/api (Speakeasy SDK), unmodified: novu.triggerBulk({events}) against CLARION_URL.
// Input events use the SDK's field names ({workflowId, to, payload, transactionId}).
// Prints {ok, result, headers} (the SDK's parsed EventsControllerTriggerBulkResponse) or {ok:false, error}.
import { Novu } from "@novu/api";
import { input, printError, printResult } from "./_io.mjs";

const { url, key, data: events } = input();
// retries off so a wrong answer fails at once instead of backing off for up to an hour
const novu = new Novu({ secretKey: key, serverURL: url, retryConfig: { strategy: "none" } });
try {
  const response = await novu.triggerBulk({ events });
  printResult({ result: response.result, headers: response.headers });
} catch (error) {
  printError(error);
}
