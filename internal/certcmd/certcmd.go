package certcmd

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/squall-streams/squall/internal/certs"
)

// ErrUsage is wrapped by errors of the command line itself (cmd/node
// prints the usage and exits 2).
var ErrUsage = errors.New("usage")

// Usage is the synopsis of `node cert`.
const Usage = `node cert create-ca     --certs-dir D [--lifetime 87600h] [--overwrite]
node cert create-node   --host H [--host H2]... --certs-dir D [--lifetime 43800h] [--overwrite]
node cert create-client NAME --certs-dir D [--lifetime 43800h] [--overwrite]
node cert list          --certs-dir D`

// hostsFlag collects --host, repeated or comma-separated.
type hostsFlag []string

func (h *hostsFlag) String() string { return strings.Join(*h, ",") }

func (h *hostsFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*h = append(*h, part)
		}
	}
	return nil
}

// Run runs `node cert ARGS…`: args[0] is the subcommand. What it wrote
// goes to stdout, flag errors to stderr.
func Run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: name a subcommand:\n%s", ErrUsage, Usage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("node cert "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("certs-dir", os.Getenv("SQUALL_CERTS_DIR"), "the certs `dir`ectory (env SQUALL_CERTS_DIR)")
	var opts certs.Options
	var hosts hostsFlag
	if sub != "list" {
		fs.BoolVar(&opts.Overwrite, "overwrite", false, "replace existing files")
		fs.DurationVar(&opts.Lifetime, "lifetime", 0, "how long the certificate is valid (default: 87600h for a CA, 43800h otherwise)")
	}
	if sub == "create-node" {
		fs.Var(&hosts, "host", "an IP address or DNS `name` the node is reached at (repeatable, or comma-separated)")
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("%w: node cert %s: name the certs directory with --certs-dir D (env SQUALL_CERTS_DIR)", ErrUsage, sub)
	}
	need := func(n int, what string) error {
		if len(pos) != n {
			return fmt.Errorf("%w: node cert %s %s", ErrUsage, sub, what)
		}
		return nil
	}
	switch sub {
	case "create-ca":
		if err := need(0, "--certs-dir D"); err != nil {
			return err
		}
		if err := certs.CreateCA(*dir, opts); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "wrote %s and %s\nkeep %s secret: whoever holds it can make node and client certificates for the cluster\n",
			filepath.Join(*dir, certs.CAFile), filepath.Join(*dir, certs.CAKeyFile), certs.CAKeyFile)
		return err
	case "create-node":
		if err := need(0, "--host H [--host H2]... --certs-dir D"); err != nil {
			return err
		}
		if len(hosts) == 0 {
			return fmt.Errorf("%w: node cert create-node: name the node's addresses with --host (IP or DNS name, repeatable)", ErrUsage)
		}
		if err := certs.CreateNode(*dir, hosts, opts); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "wrote %s and %s for %s\n", filepath.Join(*dir, certs.NodeCertFile), filepath.Join(*dir, certs.NodeKeyFile), strings.Join(hosts, ", "))
		return err
	case "create-client":
		if err := need(1, "NAME --certs-dir D"); err != nil {
			return err
		}
		if err := certs.CreateClient(*dir, pos[0], opts); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(*dir, certs.ClientCertFile(pos[0])), filepath.Join(*dir, certs.ClientKeyFile(pos[0])))
		return err
	case "list":
		if err := need(0, "--certs-dir D"); err != nil {
			return err
		}
		return list(*dir, stdout)
	}
	return fmt.Errorf("%w: node cert %q: want create-ca, create-node, create-client or list", ErrUsage, sub)
}

// parse parses flags anywhere among the positional arguments, as `node
// cert create-client NAME --certs-dir D` has them.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUsage, err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// list prints every certificate in dir: file, kind, name, hosts, expiry.
func list(dir string, stdout io.Writer) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.crt"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no certificates in %s (create them with `node cert create-ca --certs-dir %s`)", dir, dir)
	}
	slices.Sort(files)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FILE\tKIND\tNAME\tHOSTS\tEXPIRES")
	for _, f := range files {
		c, err := readCert(f)
		if err != nil {
			fmt.Fprintf(w, "%s\t?\t%v\t\t\n", filepath.Base(f), err)
			continue
		}
		hosts := slices.Clone(c.DNSNames)
		for _, ip := range c.IPAddresses {
			hosts = append(hosts, ip.String())
		}
		expires := c.NotAfter.UTC().Format(time.DateOnly)
		if time.Now().After(c.NotAfter) {
			expires += " (expired)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", filepath.Base(f), kind(c), c.Subject.CommonName, strings.Join(hosts, ","), expires)
	}
	return w.Flush()
}

func kind(c *x509.Certificate) string {
	switch {
	case c.IsCA:
		return "CA"
	case c.Subject.CommonName == certs.NodeUser:
		return "node"
	default:
		return "client"
	}
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
