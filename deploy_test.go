package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestComposeFileIsValid validates docker-compose.yml with the compose
// plugin when it is installed. There is no Docker engine on the CI
// machines; config needs none.
func TestComposeFileIsValid(t *testing.T) {
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Skip("SKIP: the docker compose plugin is not installed; the compose files are not validated")
	}
	for _, file := range []string{"docker-compose.yml", "deploy/compose-ha.yml"} {
		cmd := exec.Command("docker", "compose", "-f", file, "config", "--quiet")
		cmd.Env = append(os.Environ(), "SECRET_KEY=0123456789abcdef0123456789abcdef")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker compose -f %s config: %v\n%s", file, err, out)
		}
	}
}

// TestDockerfileRunsAsNonRoot guards the properties the Dockerfile promises,
// since no engine here can build it.
func TestDockerfileRunsAsNonRoot(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
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
