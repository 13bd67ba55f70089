// render: a small stand-in for `helm template`, for machines without helm.
//
// It renders a chart directory the way helm does for what this chart uses:
// values.yaml deep-merged with -f files (later wins) and --set a.b=c pairs,
// the built-in objects (.Values, .Release, .Chart, .Capabilities,
// .Template), Go's text/template with the sprig function library (the one
// helm uses) plus helm's include, tpl, required, toYaml, fromYaml, toJson
// and lookup (always empty, as in helm template).  Partials (_*.tpl) are
// shared by every template; each other template prints as a document with
// a "# Source:" comment, as helm does.  Errors (a `required` value missing,
// a `fail`) go to stderr with the template's name, exit status 1.
//
// usage: render [-f values.yaml]... [--set key=value]... [--name release]
//        [--namespace ns] CHART_DIR
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// mergeInto deep-merges src into dst (maps merge, everything else replaces).
func mergeInto(dst, src map[string]interface{}) {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// readYAML reads a YAML mapping (an empty file is an empty mapping).
func readYAML(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if out == nil {
		out = map[string]interface{}{}
	}
	return out, nil
}

// setValue applies one --set key.path=value (true/false/integers typed, as helm does).
func setValue(values map[string]interface{}, kv string) error {
	eq := strings.IndexByte(kv, '=')
	if eq < 1 {
		return fmt.Errorf("--set %q: want key=value", kv)
	}
	var v interface{} = kv[eq+1:]
	if err := yaml.Unmarshal([]byte(kv[eq+1:]), &v); err != nil || v == nil {
		v = kv[eq+1:]
	}
	keys := strings.Split(kv[:eq], ".")
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
	return nil
}

// toYAML is helm's toYaml: block YAML, two-space indent, no final newline.
func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// fromYAML is helm's fromYaml: a mapping, or {"Error": ...}.
func fromYAML(s string) map[string]interface{} {
	out := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &out); err != nil {
		out["Error"] = err.Error()
	}
	return out
}

func main() {
	var files, sets multi
	name, namespace := "pprl", "default"
	args := os.Args[1:]
	var chart string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-f" || a == "--values" || a == "--set" || a == "--name" || a == "--namespace") && i+1 < len(args):
			i++
			switch a {
			case "--set":
				sets.Set(args[i])
			case "--name":
				name = args[i]
			case "--namespace":
				namespace = args[i]
			default:
				files.Set(args[i])
			}
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(os.Stderr, "render: unknown option %s\n", a)
			os.Exit(2)
		default:
			chart = a
		}
	}
	if chart == "" {
		fmt.Fprintln(os.Stderr, "usage: render [-f values.yaml]... [--set k=v]... [--name n] [--namespace ns] CHART_DIR")
		os.Exit(2)
	}
	if err := run(chart, name, namespace, files, sets); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// run renders every template of the chart to stdout.
func run(chart, name, namespace string, files, sets []string) error {
	meta, err := readYAML(filepath.Join(chart, "Chart.yaml"))
	if err != nil {
		return err
	}
	values, err := readYAML(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		over, err := readYAML(f)
		if err != nil {
			return err
		}
		mergeInto(values, over)
	}
	for _, s := range sets {
		if err := setValue(values, s); err != nil {
			return err
		}
	}
	chartObj := map[string]interface{}{}
	for k, v := range meta {
		chartObj[strings.ToUpper(k[:1])+k[1:]] = v
	}
	var paths []string
	filepath.WalkDir(filepath.Join(chart, "templates"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return nil
	})
	sort.Strings(paths)
	root := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["lookup"] = func(...interface{}) map[string]interface{} { return map[string]interface{}{} }
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["include"] = func(n string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, n, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err == nil {
			t, err = t.New("tpl").Parse(text)
		}
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs)
	var rendered []string
	for _, p := range paths {
		base := filepath.Base(p)
		if base == "NOTES.txt" || (!strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".tpl")) {
			continue
		}
		text, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(chart, p)
		tname := meta["name"].(string) + "/" + filepath.ToSlash(rel)
		if _, err := root.New(tname).Parse(string(text)); err != nil {
			return err
		}
		if !strings.HasPrefix(base, "_") {
			rendered = append(rendered, tname)
		}
	}
	for _, n := range rendered {
		data := map[string]interface{}{
			"Values": values,
			"Chart":  chartObj,
			"Release": map[string]interface{}{
				"Name": name, "Namespace": namespace, "Service": "Helm",
				"IsInstall": true, "IsUpgrade": false, "Revision": 1,
			},
			"Capabilities": map[string]interface{}{
				"KubeVersion": map[string]interface{}{"Version": "v1.28.0", "Major": "1", "Minor": "28"},
			},
			"Template": map[string]interface{}{"Name": n, "BasePath": meta["name"].(string) + "/templates"},
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, n, data); err != nil {
			return err
		}
		out := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(out) == "" {
			continue
		}
		fmt.Printf("---\n# Source: %s\n%s\n", n, strings.Trim(out, "\n"))
	}
	return nil
}
