// @novu/api (Speakeasy SDK), unmodified: novu.trigger({workflowId, to, ...}) against CLARION_URL.
import { Novu } from "@novu/api";
import { input, printError, printResult } from "./_io.mjs";

const { url, key, data: event } = input();
const novu = new Novu({ secretKey: key, serverURL: url, retryConfig: { strategy: "none" } });
try {
  const response = await novu.trigger(event);
  printResult({ result: response.result, headers: response.headers });
} catch (error) {
  printError(error);
}
