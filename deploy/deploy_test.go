// Package deploy holds the tests of the deployment files: the Dockerfile
// and docker-compose.yml at the repository root, and compose-ha.yml here.
package deploy

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v4"

	"beerlocker/app"
)

// repoRoot is the repository root, seen from this package's directory,
// where go test runs the tests.
const repoRoot = ".."

// composeFiles are the deployments this repository ships, relative to
// repoRoot.
var composeFiles = []string{"docker-compose.yml", "deploy/compose-ha.yml"}

// testSecretKey is the SECRET_KEY the compose files are checked with, the
// one e2e/ gives the binaries it starts (compose-ha.yml requires one).
const testSecretKey = "soak-and-crash-tests-secret-key-0123456789abcdef"

// TestDeployComposeConfig validates the compose files with the compose
// CLI (composeCLI). There is no Docker engine on the CI machines; config
// needs none. The static tests below run everywhere.
func TestDeployComposeConfig(t *testing.T) {
	cli := composeCLI(t)
	name := strings.Join(cli, " ")
	if out, err := exec.Command(cli[0], append(cli[1:], "--version")...).CombinedOutput(); err == nil {
		t.Logf("validating with %s: %s", name, strings.TrimSpace(string(out)))
	}
	for _, file := range composeFiles {
		cmd := exec.Command(cli[0], append(cli[1:], "-f", file, "config", "--quiet")...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "SECRET_KEY="+testSecretKey) // compose-ha.yml requires it
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s -f %s config: %v\n%s", name, file, err, out)
		}
	}
}

// composeCLI returns the compose command: the docker compose plugin when
// it is installed, else docker-compose (Debian's package, v1.29, which
// scripts/tools.sh installs when the plugin is missing). With neither the
// test is skipped, or fails when BEERLOCKER_REQUIRE_TOOLS=1 (make test),
// so CI cannot go green without validating the files.
func composeCLI(t *testing.T) []string {
	t.Helper()
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if path, err := exec.LookPath("docker-compose"); err == nil {
		return []string{path}
	}
	if os.Getenv("BEERLOCKER_REQUIRE_TOOLS") == "1" {
		t.Fatal("neither the docker compose plugin nor docker-compose found (BEERLOCKER_REQUIRE_TOOLS=1): run scripts/tools.sh to install docker-compose")
	}
	t.Skip("SKIP: neither the docker compose plugin nor docker-compose found; only the static checks of the compose files run (run scripts/tools.sh to install docker-compose; set BEERLOCKER_REQUIRE_TOOLS=1 to fail instead)")
	return nil
}

// TestDeployDockerfileRunsAsNonRoot guards the properties the Dockerfile
// promises, since no engine here can build it.
func TestDeployDockerfileRunsAsNonRoot(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "AS build", "COPY --from=build", "USER nonroot"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// composeFile is the part of a compose file the static checks read.
type composeFile struct {
	Services map[string]*composeService `yaml:"services"`
	Volumes  map[string]any             `yaml:"volumes"`
	Networks map[string]*composeNetwork `yaml:"networks"`
}

type composeNetwork struct {
	IPAM struct {
		Config []struct {
			Subnet string `yaml:"subnet"`
		} `yaml:"config"`
	} `yaml:"ipam"`
}

// subnets returns the fixed subnets of n, none when n is nil.
func (n *composeNetwork) subnets() []string {
	if n == nil {
		return nil
	}
	var out []string
	for _, c := range n.IPAM.Config {
		out = append(out, c.Subnet)
	}
	return out
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	DependsOn   any               `yaml:"depends_on"` // a list of names, or a map of name to condition
	Healthcheck map[string]any    `yaml:"healthcheck"`
	Volumes     []string          `yaml:"volumes"`
	Networks    any               `yaml:"networks"` // a list of names, or a map of name to settings
}

// networks returns the networks s joins, sorted; compose's "default" when
// it names none.
func (s *composeService) networks() []string {
	var out []string
	switch n := s.Networks.(type) {
	case nil:
		return []string{"default"}
	case []any:
		for _, name := range n {
			out = append(out, fmt.Sprint(name))
		}
	case map[string]any:
		for name := range n {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// dependsOn returns the services s waits for, each with its condition
// ("service_started" for the short list form).
func (s *composeService) dependsOn() map[string]string {
	out := map[string]string{}
	switch d := s.DependsOn.(type) {
	case []any:
		for _, name := range d {
			out[fmt.Sprint(name)] = "service_started"
		}
	case map[string]any:
		for name, v := range d {
			m, _ := v.(map[string]any)
			cond, _ := m["condition"].(string)
			out[name] = cond
		}
	}
	return out
}

// isRedis reports whether s runs the official Redis image.
func (s *composeService) isRedis() bool { return strings.HasPrefix(s.Image, "redis:") }

// isSentinel reports whether s is a Redis Sentinel.
func (s *composeService) isSentinel() bool {
	return s.isRedis() && strings.Contains(strings.Join(s.Command, " "), "--sentinel")
}

// script is s's `sh -c` script as the container's shell sees it (compose
// turns $$ into $), or "" when s does not run one.
func (s *composeService) script() string {
	if len(s.Command) != 3 || s.Command[0] != "sh" || s.Command[1] != "-c" {
		return ""
	}
	return strings.ReplaceAll(s.Command[2], "$$", "$")
}

// volumeAt returns the named volume s mounts at target, or "".
func (s *composeService) volumeAt(target string) string {
	for _, v := range s.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		dst, _, _ = strings.Cut(dst, ":")
		if dst == target && !strings.ContainsAny(src, "./") {
			return src
		}
	}
	return ""
}

// loadCompose reads file, a path relative to repoRoot.
func loadCompose(t *testing.T, file string) *composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, file))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(c.Services) == 0 {
		t.Fatalf("%s: no services", file)
	}
	return &c
}

// interpolate does what compose does to a value: ${NAME}, ${NAME:-default}
// and ${NAME:?error} from env, and $$ as a literal $.
func interpolate(t *testing.T, s string, env map[string]string) string {
	t.Helper()
	re := regexp.MustCompile(`\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sm := re.FindStringSubmatch(m)
		v, ok := env[sm[1]]
		switch {
		case ok && v != "":
			return v
		case sm[2] == ":-":
			return sm[3]
		case sm[2] == ":?":
			t.Errorf("%s is required: %s", sm[1], sm[3])
		}
		return ""
	})
}

// TestDeployComposeFilesAreConsistent reads both compose files without
// Docker: every dependency names a service, a service waited for until
// healthy has a health check, every named volume is declared and mounted
// by one service only (so no two Redis or MongoDB servers share a data
// directory), every shell script parses and leaves its $ to the shell, and
// every Beer Locker service's environment is one the service starts with.
func TestDeployComposeFilesAreConsistent(t *testing.T) {
	for _, file := range composeFiles {
		t.Run(file, func(t *testing.T) {
			c := loadCompose(t, file)
			mountedBy := map[string]string{}
			for name, s := range c.Services {
				if (s.Image == "") == (s.Build == nil) {
					t.Errorf("%s: needs exactly one of image and build", name)
				}
				for dep, cond := range s.dependsOn() {
					d, ok := c.Services[dep]
					switch {
					case !ok:
						t.Errorf("%s depends on %s, which is not a service", name, dep)
					case cond == "service_healthy" && d.Healthcheck["test"] == nil:
						t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
					}
				}
				for _, v := range s.Volumes {
					src, _, _ := strings.Cut(v, ":")
					if strings.ContainsAny(src, "./") {
						continue // a bind mount
					}
					if _, ok := c.Volumes[src]; !ok {
						t.Errorf("%s mounts volume %s, which is not declared", name, src)
					}
					if other, ok := mountedBy[src]; ok {
						t.Errorf("%s and %s both mount volume %s", name, other, src)
					}
					mountedBy[src] = name
				}
				for _, arg := range s.Command {
					if strings.Contains(strings.ReplaceAll(arg, "$$", ""), "$") {
						t.Errorf("%s: compose would fill a $ of the command from the host's environment; write $$ for the shell:\n%s", name, arg)
					}
				}
				if sh := s.script(); sh != "" {
					if out, err := exec.Command("sh", "-n", "-c", sh).CombinedOutput(); err != nil {
						t.Errorf("%s: the script does not parse: %v\n%s", name, err, out)
					}
				}
				if s.Build != nil {
					env := map[string]string{"SECRET_KEY": testSecretKey}
					getenv := func(k string) string { return interpolate(t, s.Environment[k], env) }
					if _, err := app.ParseConfig(nil, getenv, io.Discard); err != nil {
						t.Errorf("%s: the service would not start: %v", name, err)
					}
				}
			}
			for v := range c.Volumes {
				if _, ok := mountedBy[v]; !ok {
					t.Errorf("volume %s is declared but not mounted", v)
				}
			}
		})
	}
}

// TestDeployComposeRedis: `docker compose up` runs Beer Locker with its
// tokens in a Redis of the same file, started before it and healthy, that
// keeps an append-only file (see the comment on the service).
func TestDeployComposeRedis(t *testing.T) {
	c := loadCompose(t, "docker-compose.yml")
	app := c.Services["beerlocker"]
	if app == nil {
		t.Fatal("no beerlocker service")
	}
	raw := app.Environment["REDIS_URL"]
	if raw == "" {
		t.Fatal("beerlocker: REDIS_URL is not set")
	}
	o, err := goredis.ParseURL(raw)
	if err != nil {
		t.Fatalf("REDIS_URL %q: %v", raw, err)
	}
	host, port, _ := net.SplitHostPort(o.Addr)
	redis := c.Services[host]
	if redis == nil || !redis.isRedis() {
		t.Fatalf("REDIS_URL names host %q, which is not a Redis service", host)
	}
	if port != "6379" {
		t.Errorf("REDIS_URL port = %s, want 6379", port)
	}
	if got := app.dependsOn()[host]; got != "service_healthy" {
		t.Errorf("beerlocker depends on %s with %q, want service_healthy", host, got)
	}
	if !slices.Contains(redis.Command, "--appendonly") || redis.volumeAt("/data") == "" {
		t.Errorf("%s: want the append-only file on, in a named volume at /data; command %q, volumes %q",
			host, redis.Command, redis.Volumes)
	}
}

// TestDeployHARedisSentinel: in compose-ha.yml both instances reach Redis
// through every Sentinel; the Sentinels are an odd number, at least three,
// with a majority quorum, monitor the initial primary under the name
// REDIS_URL asks for, and keep their configuration writable in a volume;
// the data servers are one primary and its replicas, named by host name.
func TestDeployHARedisSentinel(t *testing.T) {
	c := loadCompose(t, "deploy/compose-ha.yml")

	var sentinels, servers, apps []string
	for name, s := range c.Services {
		switch {
		case s.isSentinel():
			sentinels = append(sentinels, name)
		case s.isRedis():
			servers = append(servers, name)
		case s.Build != nil:
			apps = append(apps, name)
		}
	}
	slices.Sort(sentinels)
	slices.Sort(servers)
	if len(apps) < 2 {
		t.Fatalf("Beer Locker services = %q, want at least two", apps)
	}
	if len(sentinels) < 3 || len(sentinels)%2 == 0 {
		t.Fatalf("Sentinels = %q, want an odd number, at least three", sentinels)
	}

	// The instances: one REDIS_URL naming every Sentinel and a master.
	raw := c.Services[apps[0]].Environment["REDIS_URL"]
	o, err := goredis.ParseFailoverURL(raw)
	if err != nil {
		t.Fatalf("REDIS_URL %q: %v", raw, err)
	}
	if o.MasterName == "" {
		t.Fatalf("REDIS_URL %q has no master_name", raw)
	}
	var named []string
	for _, addr := range o.SentinelAddrs {
		host, port, _ := net.SplitHostPort(addr)
		if port != "26379" {
			t.Errorf("REDIS_URL: Sentinel %s: port %s, want 26379", addr, port)
		}
		named = append(named, host)
	}
	slices.Sort(named)
	if !slices.Equal(named, sentinels) {
		t.Errorf("REDIS_URL names Sentinels %q, want every one: %q", named, sentinels)
	}
	for _, name := range apps {
		s := c.Services[name]
		if got := s.Environment["REDIS_URL"]; got != raw {
			t.Errorf("%s: REDIS_URL = %q, want %q like %s", name, got, raw, apps[0])
		}
		for _, sen := range sentinels {
			if got := s.dependsOn()[sen]; got != "service_healthy" {
				t.Errorf("%s depends on %s with %q, want service_healthy", name, sen, got)
			}
		}
	}

	// The data servers: exactly one starts as the primary, the others as
	// its replicas.
	var primary string
	for _, name := range servers {
		if _, ok := c.Services[name].Environment["REPLICAOF"]; ok {
			continue
		}
		if primary != "" {
			t.Errorf("%s and %s both start as the primary", primary, name)
		}
		primary = name
	}
	if primary == "" || len(servers) < 2 {
		t.Fatalf("Redis servers = %q with primary %q, want a primary and at least one replica", servers, primary)
	}
	for _, name := range servers {
		s := c.Services[name]
		sh := s.script()
		if got := s.Environment["NAME"]; got != name {
			t.Errorf("%s: NAME = %q, want the service's name (its replica-announce-ip)", name, got)
		}
		for _, want := range []string{"appendonly yes", "replica-announce-ip $NAME", "replicaof $REPLICAOF"} {
			if !strings.Contains(sh, want) {
				t.Errorf("%s: the configuration lacks %q", name, want)
			}
		}
		if of, ok := s.Environment["REPLICAOF"]; ok && of != primary+" 6379" {
			t.Errorf("%s: REPLICAOF = %q, want %q", name, of, primary+" 6379")
		}
		checkWritableConfig(t, name, s)
	}

	// The Sentinels: a majority quorum on the primary, by host name.
	monitor := regexp.MustCompile(`sentinel monitor (\S+) (\S+) (\d+) (\d+)`)
	quorum := len(sentinels)/2 + 1
	for _, name := range sentinels {
		s := c.Services[name]
		sh := s.script()
		m := monitor.FindStringSubmatch(sh)
		if m == nil {
			t.Errorf("%s: no `sentinel monitor` line:\n%s", name, sh)
			continue
		}
		if m[1] != o.MasterName || m[2] != primary || m[3] != "6379" || m[4] != strconv.Itoa(quorum) {
			t.Errorf("%s: sentinel monitor %s %s %s %s, want %s %s 6379 %d",
				name, m[1], m[2], m[3], m[4], o.MasterName, primary, quorum)
		}
		for _, want := range []string{"sentinel resolve-hostnames yes", "sentinel announce-hostnames yes", "sentinel announce-ip $NAME"} {
			if !strings.Contains(sh, want) {
				t.Errorf("%s: the configuration lacks %q", name, want)
			}
		}
		if got := s.Environment["NAME"]; got != name {
			t.Errorf("%s: NAME = %q, want the service's name (its announce-ip)", name, got)
		}
		for _, srv := range servers {
			if got := s.dependsOn()[srv]; got != "service_healthy" {
				t.Errorf("%s depends on %s with %q, want service_healthy", name, srv, got)
			}
		}
		checkWritableConfig(t, name, s)
	}
}

// checkWritableConfig: Sentinel rewrites the configuration of the servers
// and of itself to record a failover, so s must start redis-server on a
// configuration file in a named volume that it writes only when the file
// is not there yet (a restart keeps what Sentinel recorded), and through
// the image's entrypoint, which runs the server as the redis user.
func checkWritableConfig(t *testing.T, name string, s *composeService) {
	t.Helper()
	m := regexp.MustCompile(`exec docker-entrypoint\.sh redis-server (/\S+\.conf)`).FindStringSubmatch(s.script())
	if m == nil {
		t.Errorf("%s: does not exec docker-entrypoint.sh redis-server <file>.conf:\n%s", name, s.script())
		return
	}
	conf := m[1]
	dir := conf[:strings.LastIndex(conf, "/")]
	if s.volumeAt(dir) == "" {
		t.Errorf("%s: %s is not in a named volume (volumes %q)", name, conf, s.Volumes)
	}
	if !strings.Contains(s.script(), "[ -f "+conf+" ] ||") {
		t.Errorf("%s: %s must be written only when it does not exist yet", name, conf)
	}
}

// TestDeployHATrustedProxies: behind Caddy every request reaches an
// instance from Caddy's address, so the instances must believe Caddy's
// X-Forwarded-For (TRUSTED_PROXIES, API.md §8), or every client shares one
// rate-limit address. Caddy and the instances share a network of their
// own, with a fixed subnet that TRUSTED_PROXIES names and that nothing but
// Caddy and the instances joins: a container on it could otherwise pick
// its address.
func TestDeployHATrustedProxies(t *testing.T) {
	c := loadCompose(t, "deploy/compose-ha.yml")
	caddy := c.Services["caddy"]
	if caddy == nil {
		t.Fatal("no caddy service")
	}
	var apps []string
	for name, s := range c.Services {
		if s.Build != nil {
			apps = append(apps, name)
		}
	}
	slices.Sort(apps)
	edge := caddy.networks()
	if len(edge) != 1 {
		t.Fatalf("caddy is on networks %q, want exactly one, shared with the instances", edge)
	}
	subnets := c.Networks[edge[0]].subnets()
	if len(subnets) != 1 {
		t.Fatalf("network %s has subnets %q, want one fixed subnet for TRUSTED_PROXIES to name", edge[0], subnets)
	}
	env := map[string]string{}
	subnet, err := netip.ParsePrefix(interpolate(t, subnets[0], env))
	if err != nil {
		t.Fatalf("network %s: subnet %q: %v", edge[0], subnets[0], err)
	}
	for name, s := range c.Services {
		if name != "caddy" && s.Build == nil && slices.Contains(s.networks(), edge[0]) {
			t.Errorf("%s is on %s, the network whose addresses the instances trust", name, edge[0])
		}
	}
	for _, name := range apps {
		s := c.Services[name]
		if !slices.Contains(s.networks(), edge[0]) {
			t.Errorf("%s is not on %s, caddy's network", name, edge[0])
		}
		cfg := app.Config{TrustedProxies: interpolate(t, s.Environment["TRUSTED_PROXIES"], env)}
		got, err := cfg.Proxies()
		if err != nil || len(got) != 1 || got[0] != subnet {
			t.Errorf("%s: TRUSTED_PROXIES = %q (%v), want %s, the subnet of %s", name, cfg.TrustedProxies, err, subnet, edge[0])
		}
		// Set from one variable in both places, so they cannot drift apart.
		if s.Environment["TRUSTED_PROXIES"] != subnets[0] {
			t.Errorf("%s: TRUSTED_PROXIES = %q, want exactly the subnet's %q", name, s.Environment["TRUSTED_PROXIES"], subnets[0])
		}
	}
}
