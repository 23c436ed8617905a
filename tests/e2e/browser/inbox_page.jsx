// A page that mounts @novu/react's <Inbox /> (unmodified, bundled by esbuild from npm, no CDN)
// against a Clarion stack: ?backendUrl=...&applicationIdentifier=...&subscriberId=...
import { Inbox } from "@novu/react";
import { createRoot } from "react-dom/client";

const params = new URLSearchParams(window.location.search);

function Page() {
  return (
    <main style={{ fontFamily: "sans-serif", padding: 24, width: 480 }}>
      <h1 style={{ fontSize: 18 }}>Clarion Inbox</h1>
      <Inbox
        applicationIdentifier={params.get("applicationIdentifier")}
        subscriberId={params.get("subscriberId")}
        subscriberHash={params.get("subscriberHash") || undefined}
        backendUrl={params.get("backendUrl")}
        socketUrl={params.get("socketUrl")}
        open
      />
    </main>
  );
}

createRoot(document.getElementById("root")).render(<Page />);
