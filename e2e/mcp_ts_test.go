package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
	"beerlocker/store/redis/redistest"
)

// mcpTSSDKVersion is the @modelcontextprotocol/sdk scripts/tools.sh installs.
const mcpTSSDKVersion = "1.32.2"

// findMCPTypeScriptSDK returns node and the SDK's directory, or "" when
// either is missing.
func findMCPTypeScriptSDK(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		return "", ""
	}
	dir = filepath.Join(e2etest.RepoRoot(t), ".tools", "node_modules", "@modelcontextprotocol", "sdk")
	var pkg struct{ Version string }
	if b, err := os.ReadFile(filepath.Join(dir, "package.json")); err != nil || json.Unmarshal(b, &pkg) != nil || pkg.Version != mcpTSSDKVersion {
		return "", ""
	}
	return node, dir
}

// TestMCPWithTypeScriptSDKAgent runs an agent built on MCP's official
// TypeScript SDK, unmodified (e2e/testdata/mcp-ts/agent.mjs), against the
// service: its 401 from /mcp, discovery from the first WWW-Authenticate
// value, dynamic registration, the real login and consent pages, the code
// exchange with resource, the tools, and a refresh (which this SDK sends
// with resource too). On the embedded database, and with Redis holding
// codes and tokens.
func TestMCPWithTypeScriptSDKAgent(t *testing.T) {
	node, sdk := findMCPTypeScriptSDK(t)
	if sdk == "" {
		if os.Getenv("BEERLOCKER_REQUIRE_TOOLS") == "1" {
			t.Fatal("node or @modelcontextprotocol/sdk " + mcpTSSDKVersion + " at .tools/node_modules not found, and BEERLOCKER_REQUIRE_TOOLS=1; run scripts/tools.sh")
		}
		t.Skip("SKIP: node or @modelcontextprotocol/sdk " + mcpTSSDKVersion + " at .tools/node_modules not found; run scripts/tools.sh")
	}
	for _, backend := range []string{"sqlite", "redis"} {
		t.Run(backend, func(t *testing.T) {
			env := map[string]string{"DATA_DIR": t.TempDir()}
			if backend == "redis" {
				env["REDIS_URL"] = redistest.Start(t).URL()
			}
			runTSAgent(t, node, sdk, env)
		})
	}
}

func runTSAgent(t *testing.T, node, sdk string, env map[string]string) {
	// The resource is PUBLIC_URL/mcp, which the SDK checks against the URL
	// it connects to: the service listens on a port picked beforehand.
	addr := e2etest.FreeAddr(t)
	public := "http://" + addr
	env["ADDR"], env["PUBLIC_URL"] = addr, public
	base, _ := e2etest.StartInProcess(t, env)
	const user, pass = "ts-agent-user", "ts agents password"
	if resp, body := e2etest.RequestJSON(t, "POST", base+"/api/users", `{"username":"`+user+`","password":"`+pass+`"}`, "", ""); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/users: %s %s", resp.Status, body)
	}

	script, err := filepath.Abs(filepath.Join("testdata", "mcp-ts", "agent.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	const redirectURI = "http://127.0.0.1:9/ts-callback"
	cmd := exec.CommandContext(t.Context(), node, script, sdk, public+"/mcp", redirectURI)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("agent.mjs: %v\n%s", err, stderr.String())
		}
	}()

	var summary struct {
		OK    bool
		Error string
		Tools []string
		// Each tool result: isError, structuredContent, text.
		EmptyList, Added, Updated, Got, Invalid, ListAfterRefresh, Deleted toolOutcome
		UnknownTool                                                        string
		Refreshed                                                          bool
		Seen                                                               struct{ Registrations, TokenResponses, Authorizations int }
	}
	authorizations := 0
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		var msg struct{ Authorize string }
		if json.Unmarshal(lines.Bytes(), &msg) == nil && msg.Authorize != "" {
			authorizations++
			callback := browseToCallback(t, msg.Authorize, redirectURI, user, pass)
			if _, err := io.WriteString(stdin, callback+"\n"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := json.Unmarshal(lines.Bytes(), &summary); err != nil {
			t.Fatalf("agent.mjs printed %q: %v", lines.Text(), err)
		}
		break
	}
	if !summary.OK {
		t.Fatalf("the agent failed: %s\n%s", summary.Error, stderr.String())
	}
	if authorizations != 1 || summary.Seen.Registrations != 1 || summary.Seen.Authorizations != 1 {
		t.Errorf("authorizations %d, seen %+v: want one registration and one authorization", authorizations, summary.Seen)
	}
	if got := strings.Join(summary.Tools, " "); got != "add_beer delete_beer get_beer list_beers update_beer" {
		t.Errorf("tools = %s", got)
	}
	if n := len(summary.EmptyList.Structured["beers"].([]any)); summary.EmptyList.IsError || n != 0 {
		t.Errorf("list_beers on an empty locker: %+v", summary.EmptyList)
	}
	added := summary.Added.Structured
	if summary.Added.IsError || added["name"] != "TS Tripel" || added["type"] != "Tripel" || added["quantity"] != float64(4) {
		t.Errorf("add_beer: %+v", summary.Added)
	}
	if summary.Updated.IsError || summary.Updated.Structured["quantity"] != float64(3) || summary.Got.Structured["quantity"] != float64(3) {
		t.Errorf("update_beer, get_beer: %+v, %+v", summary.Updated, summary.Got)
	}
	if !summary.Invalid.IsError || !strings.Contains(summary.Invalid.Text, "name must be 1–100 characters") {
		t.Errorf("add_beer with an empty name: %+v", summary.Invalid)
	}
	if !strings.Contains(summary.UnknownTool, "no_such_tool") {
		t.Errorf("an unknown tool: %q", summary.UnknownTool)
	}
	// The refresh: a new refresh token (rotation), no new authorization,
	// and the token it got works at /mcp.
	if !summary.Refreshed || summary.Seen.TokenResponses != 2 {
		t.Errorf("refresh: rotated %v, token responses %d, want a rotation and 2", summary.Refreshed, summary.Seen.TokenResponses)
	}
	if beers := summary.ListAfterRefresh.Structured["beers"].([]any); summary.ListAfterRefresh.IsError || len(beers) != 1 {
		t.Errorf("list_beers after the refresh: %+v", summary.ListAfterRefresh)
	}
	if summary.Deleted.IsError || summary.Deleted.Structured["deleted"] != true {
		t.Errorf("delete_beer: %+v", summary.Deleted)
	}
	// And the REST API agrees: the locker is empty again.
	resp, body := e2etest.RequestJSON(t, "GET", base+"/api/beers", "", user, pass)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"beers":[]`) {
		t.Errorf("GET /api/beers after the agent: %s %s", resp.Status, body)
	}
}

type toolOutcome struct {
	IsError    bool
	Structured map[string]any
	Text       string
}
