package servecmd

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// maxConfigBytes bounds the config file: a few hundred keys at most.
const maxConfigBytes = 1 << 20

// configHelp documents the precedence once for both servers.
func configHelp(prefix string) string {
	return "Every flag can also be set as the environment variable " + prefix + "<FLAG> (upper case, - as _)\n" +
		"or as a key named like the flag in the TOML file --config. Precedence: command line > environment >\n" +
		"config file > default. Unknown keys and unknown " + prefix + "* variables are refused."
}

// withConfig gives c the configuration scheme: --config FILE and, for every
// flag of c (whoever added it), PREFIX<FLAG> in the environment and a key in
// the file. Flags are looked up when the command runs, so flags added after
// this call are covered; PreRunE hooks added after it run after the config
// is applied (they wrap this one).
func withConfig(c *cobra.Command, prefix string) {
	c.Flags().String("config", "", "TOML config file; keys are flag names (env "+prefix+"CONFIG)")
	if c.Long == "" {
		c.Long = c.Short + "."
	}
	c.Long += "\n\n" + configHelp(prefix)
	next := c.PreRunE
	c.PreRunE = func(cmd *cobra.Command, args []string) error {
		if err := applyConfig(cmd.Flags(), prefix, os.Environ()); err != nil {
			return err
		}
		if next != nil {
			return next(cmd, args)
		}
		return nil
	}
}

// applyConfig sets every flag not on the command line from environ, then
// every flag still unset from the config file. Setting a flag marks it
// Changed, which is what makes the environment win over the file.
func applyConfig(fs *pflag.FlagSet, prefix string, environ []string) error {
	if err := flagsFromEnv(fs, prefix, environ); err != nil {
		return err
	}
	path, _ := fs.GetString("config")
	if path == "" {
		return nil
	}
	return flagsFromFile(fs, path)
}

// envKey is the variable that carries flag name.
func envKey(prefix, name string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// flagsFromEnv sets every flag not given on the command line from
// PREFIX<NAME>; a PREFIX* variable that names no flag is refused, since a
// typo would otherwise be silently ignored.
func flagsFromEnv(fs *pflag.FlagSet, prefix string, environ []string) error {
	known := map[string]*pflag.Flag{}
	fs.VisitAll(func(f *pflag.Flag) { known[envKey(prefix, f.Name)] = f })
	var unknown []string
	for _, kv := range environ {
		key, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		f, ok := known[key]
		if !ok {
			unknown = append(unknown, key)
			continue
		}
		if f.Changed {
			continue
		}
		if err := fs.Set(f.Name, val); err != nil {
			return fmt.Errorf("environment %s: %w", key, err)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("environment: unknown variable(s) %s (no such flag; see --help): %w",
			strings.Join(unknown, ", "), errs.ErrInvalid)
	}
	return nil
}

// flagsFromFile sets every flag still unset from the TOML file at path.
func flagsFromFile(fs *pflag.FlagSet, path string) error {
	values, err := readConfigFile(path)
	if err != nil {
		return err
	}
	var unknown []string
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		f := fs.Lookup(key)
		if f == nil || key == "config" {
			unknown = append(unknown, strconv.Quote(key))
			continue
		}
		if f.Changed {
			continue
		}
		v, err := flagValue(values[key])
		if err == nil {
			err = fs.Set(key, v)
		}
		if err != nil {
			return fmt.Errorf("config %s: key %q: %w", path, key, err)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("config %s: unknown key(s) %s (keys are flag names; see --help): %w",
			path, strings.Join(unknown, ", "), errs.ErrInvalid)
	}
	return nil
}

func readConfigFile(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if n, err := buf.ReadFrom(io.LimitReader(f, maxConfigBytes+1)); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	} else if n > maxConfigBytes {
		return nil, fmt.Errorf("config %s: larger than %d bytes: %w", path, maxConfigBytes, errs.ErrInvalid)
	}
	values := map[string]any{}
	if _, err := toml.Decode(buf.String(), &values); err != nil {
		return nil, fmt.Errorf("config %s: %w: %w", path, errs.ErrInvalid, err)
	}
	return values, nil
}

// flagValue renders a TOML value as the flag would take it on the command
// line; an array becomes one CSV list, as slice flags parse it.
func flagValue(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool, int64, float64:
		return fmt.Sprint(v), nil
	case []any:
		items := make([]string, 0, len(v))
		for _, item := range v {
			s, err := flagValue(item)
			if err != nil {
				return "", err
			}
			items = append(items, s)
		}
		var b strings.Builder
		w := csv.NewWriter(&b)
		if err := w.Write(items); err != nil {
			return "", err
		}
		w.Flush()
		return strings.TrimSuffix(b.String(), "\n"), nil
	}
	return "", fmt.Errorf("a %T is not a flag value (want a string, number, boolean or array): %w", v, errs.ErrInvalid)
}
