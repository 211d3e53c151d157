// Command argocd is the Argo CD of Rebound's tests (`apply: argocd`): only the two parts the
// engine needs to sync a branch, the application-controller and the repo-server, chosen by the
// binary's name or ARGOCD_BINARY_NAME (as in Argo CD's own multi-call binary), and the git
// askpass helper the repo-server runs. No API server, UI,
// Dex or notifications: the tests read and annotate Applications through the Kubernetes API, like
// Rebound does. `argocd version` prints the version (build.sh checks it).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/cli"
)

func main() {
	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	var command *cobra.Command
	switch name {
	case "argocd-application-controller":
		command = appcontroller.NewCommand()
	case "argocd-repo-server":
		command = reposerver.NewCommand()
	case "argocd-git-ask-pass":
		// The repo-server runs git with GIT_ASKPASS=argocd (found on PATH) and this name, to hand
		// git the repository's credentials over a local socket: never on a command line.
		command = gitaskpass.NewCommand()
	default:
		if len(os.Args) == 2 && os.Args[1] == "version" {
			fmt.Printf("argocd %s (application-controller, repo-server)\n", common.GetVersion().Version)
			return
		}
		fmt.Fprintf(os.Stderr, "argocd: run as argocd-application-controller or argocd-repo-server (or set ARGOCD_BINARY_NAME), or `argocd version`; not %q\n", name)
		os.Exit(2)
	}
	cli.SetLogFormat("text")
	if err := command.Execute(); err != nil {
		os.Exit(1)
	}
}
