// @suprsend/node-sdk 1.x, unmodified, against CLARION_URL. CLARION_API_KEY is the workspace
// secret (the environment's API key); CLARION_INPUT says what to do:
//   {workspace, action: "trigger", body, options}      workflows.trigger(new WorkflowTriggerRequest(body, options))
//   {workspace, action: "bulk", requests: [{body, options}]}   workflows.bulk_trigger_instance() ... .trigger()
//   {workspace, action: "save", distinct_id, calls: [[method, ...args]]}   user.get_instance(id).<method>(...) ... .save()
//   {workspace, action: "track", distinct_id, event, properties, options}  track_event(new Event(...))
import { Event, Suprsend, WorkflowTriggerRequest } from "@suprsend/node-sdk";
import { input, printError, printResult } from "./_io.mjs";

const { url, key, data } = input();
const client = new Suprsend(data.workspace, key, { base_url: url });

async function run() {
  switch (data.action) {
    case "trigger":
      return client.workflows.trigger(new WorkflowTriggerRequest(data.body, data.options));
    case "bulk": {
      const bulk = client.workflows.bulk_trigger_instance();
      bulk.append(...data.requests.map((r) => new WorkflowTriggerRequest(r.body, r.options)));
      return bulk.trigger();
    }
    case "save": {
      const user = client.user.get_instance(data.distinct_id);
      for (const [method, ...args] of data.calls) user[method](...args);
      return user.save();
    }
    case "track":
      return client.track_event(new Event(data.distinct_id, data.event, data.properties, data.options));
    default:
      throw new Error(`unknown action ${data.action}`);
  }
}

try {
  printResult({ result: await run() });
} catch (error) {
  printError(error);
}
