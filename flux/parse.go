package flux

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxTasks bounds parallelism and numTasks in a file.
const MaxTasks = 4096

// ErrInvalid is wrapped by every error about the content of a topology file.
var ErrInvalid = errors.New("invalid topology file")

// Error is one problem in a topology file, at a line, in a field.
type Error struct {
	Line  int    // 1-based; 0 when the problem has no single place
	Field string // the path of the field: "bolts[1].grouping.type"
	Msg   string
	Err   error // the underlying error, if any (topology.Builder's)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Field != "":
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	case e.Field != "":
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

// Is makes every Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Definition is a parsed topology file: Flux's model, less what squall
// does not support (see the package documentation).
type Definition struct {
	Name    string
	Config  map[string]any
	Spouts  []*Component
	Bolts   []*Component
	Streams []*Stream

	configLines map[string]int
}

// Component is a spout or bolt of a topology file.
type Component struct {
	ID          string
	ClassName   string
	Parallelism int // default 1
	NumTasks    int // 0: as many as the parallelism
	// ConstructorArgs, ConfigMethods and Properties are Flux's, as YAML
	// decodes them; registry factories read them.
	ConstructorArgs []any
	ConfigMethods   []ConfigMethod
	Properties      map[string]any
	// Command is the argv of a shell component: squall's command + script,
	// or the first constructor argument of Flux's FluxShellSpout/Bolt. It
	// is nil for registry components.
	Command []string
	// Outputs are the declared output streams, in the order written.
	Outputs []Output
	// Conf is the component's own configuration (Flux's
	// addComponentConfig, squall's config:), sent to shell subprocesses.
	Conf map[string]any
	// Line is where the component starts in the file.
	Line int

	kind  string // "spouts" or "bolts"
	index int
}

// Output is one declared output stream.
type Output struct {
	Stream string
	Fields []string
	Direct bool
	Line   int
}

// ConfigMethod is one of Flux's configMethods calls.
type ConfigMethod struct {
	Name string
	Args []any
	Line int
}

// Stream is a subscription: from, to, and how.
type Stream struct {
	Name     string // not used, as in Flux
	From, To string
	Grouping Grouping
	Line     int
	index    int
}

// Grouping is a stream's grouping.
type Grouping struct {
	// Type is normalised: upper case, "-" and " " as "_" (local-or-shuffle
	// is LOCAL_OR_SHUFFLE).
	Type     string
	StreamID string // default "default"
	Args     []string
	// CustomClass is the customClass of a CUSTOM grouping.
	CustomClass *CustomClass
	Line        int
}

// CustomClass is a CUSTOM grouping's class and constructor arguments.
type CustomClass struct {
	ClassName       string
	ConstructorArgs []any
	Line            int
}

// Parse reads a topology file. Errors name the line and the field; every
// problem found is reported.
func Parse(data []byte) (*Definition, error) {
	var doc yaml.Node
	if err := unmarshal(data, &doc); err != nil {
		return nil, err
	}
	p := &parser{}
	d := p.document(&doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return d, nil
}

// unmarshal parses YAML, turning a parser failure into an error.
func unmarshal(data []byte, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Msg: fmt.Sprintf("not YAML: parser failed: %v", r)}
		}
	}()
	if err := yaml.Unmarshal(data, doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, tail, ok := strings.Cut(rest, ": "); ok {
				if l, err := strconv.Atoi(n); err == nil {
					line, msg = l, tail
				}
			}
		}
		return &Error{Line: line, Msg: "not YAML: " + msg}
	}
	return nil
}

type parser struct{ errs []error }

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// deref follows an alias.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pairs returns a mapping's keys and values, reporting a non-mapping and
// duplicate keys.
func (p *parser) pairs(n *yaml.Node, field string) (keys []string, vals []*yaml.Node, keyNodes []*yaml.Node) {
	n = deref(n)
	if n == nil || isNull(n) {
		return nil, nil, nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a mapping, got %s", kindName(n))
		return nil, nil, nil
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			p.errorf(k, field, "keys must be plain strings")
			continue
		}
		if seen[k.Value] {
			p.errorf(k, join(field, k.Value), "given twice")
			continue
		}
		seen[k.Value] = true
		keys, vals, keyNodes = append(keys, k.Value), append(vals, v), append(keyNodes, k)
	}
	return keys, vals, keyNodes
}

func join(field, key string) string {
	if key == "" {
		return field
	}
	if field == "" {
		return key
	}
	return field + "." + key
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	default:
		return "a document"
	}
}

// str reads a scalar as a string (numbers and booleans as written).
func (p *parser) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, field, "want a string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) integer(n *yaml.Node, field string, min int) (int, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.errorf(n, field, "want an integer, got %s", kindName(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < min || v > MaxTasks {
		p.errorf(n, field, "want an integer from %d to %d, got %s", min, MaxTasks, n.Value)
		return 0, false
	}
	return v, true
}

// strings reads a list of strings.
func (p *parser) strings(n *yaml.Node, field string) ([]string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errorf(n, field, "want a list of strings, got %s", kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, e := range n.Content {
		s, good := p.str(e, fmt.Sprintf("%s[%d]", field, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// value decodes any YAML value to Go (maps with string keys, lists, scalars).
func (p *parser) value(n *yaml.Node, field string) (any, bool) {
	var v any
	if err := deref(n).Decode(&v); err != nil {
		p.errorf(n, field, "%v", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, false
	}
	return normalize(v), true
}

// normalize turns the map[any]any YAML may produce into map[string]any.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

var (
	topLevelKeys  = []string{"name", "config", "spouts", "bolts", "streams"}
	fluxOnlyKeys  = []string{"includes", "components", "topologySource", "workerHooks"}
	componentKeys = []string{"id", "className", "parallelism", "numTasks", "constructorArgs", "configMethods",
		"properties", "command", "script", "fields", "outputs", "config"}
	streamKeys   = []string{"name", "from", "to", "grouping"}
	groupingKeys = []string{"type", "streamId", "args", "customClass"}
)

func (p *parser) unknown(k *yaml.Node, field string, known []string) {
	p.errorf(k, join(field, k.Value), "unknown field (known: %s)", strings.Join(known, ", "))
}

func (p *parser) document(doc *yaml.Node) *Definition {
	d := &Definition{Config: map[string]any{}, configLines: map[string]int{}}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errorf(nil, "", "the file is empty")
		return d
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "want a mapping with name, config, spouts, bolts and streams, got %s", kindName(root))
		return d
	}
	keys, vals, knodes := p.pairs(root, "")
	haveName := false
	for i, k := range keys {
		v := vals[i]
		switch k {
		case "name":
			d.Name, haveName = p.str(v, k)
		case "config":
			ck, cv, cn := p.pairs(v, k)
			for j, key := range ck {
				if val, ok := p.value(cv[j], join(k, key)); ok {
					d.Config[key] = val
					d.configLines[key] = cn[j].Line
				}
			}
		case "spouts", "bolts":
			for j, n := range p.list(v, k) {
				c := p.component(n, fmt.Sprintf("%s[%d]", k, j))
				c.kind, c.index = k, j
				if k == "spouts" {
					d.Spouts = append(d.Spouts, c)
				} else {
					d.Bolts = append(d.Bolts, c)
				}
			}
		case "streams":
			for j, n := range p.list(v, k) {
				s := p.stream(n, fmt.Sprintf("streams[%d]", j))
				s.index = j
				d.Streams = append(d.Streams, s)
			}
		default:
			if slices.Contains(fluxOnlyKeys, k) {
				p.errorf(knodes[i], k, "Flux's %s are not supported by squall (supported: %s)", k, strings.Join(topLevelKeys, ", "))
				continue
			}
			p.unknown(knodes[i], "", topLevelKeys)
		}
	}
	if !haveName && !slices.Contains(keys, "name") {
		p.errorf(root, "name", "missing: the topology needs a name")
	}
	if len(d.Spouts) == 0 && !slices.Contains(keys, "spouts") {
		p.errorf(root, "spouts", "missing: a topology needs at least one spout")
	}
	p.checkIDs(d)
	return d
}

func (p *parser) list(n *yaml.Node, field string) []*yaml.Node {
	n = deref(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, field, "want a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

// values reads a list of any YAML values (constructor and method
// arguments); entries that do not decode are reported and left out.
func (p *parser) values(n *yaml.Node, field string) []any {
	var out []any
	for i, e := range p.list(n, field) {
		if v, ok := p.value(e, fmt.Sprintf("%s[%d]", field, i)); ok {
			out = append(out, v)
		}
	}
	return out
}

func (p *parser) component(n *yaml.Node, field string) *Component {
	n = deref(n)
	c := &Component{Parallelism: 1, Line: n.Line}
	keys, vals, knodes := p.pairs(n, field)
	if n.Kind != yaml.MappingNode {
		return c
	}
	var command []string
	var script string
	var haveCommand, haveScript bool
	var fields []string
	var haveFields bool
	for i, k := range keys {
		v, f := vals[i], join(field, k)
		switch k {
		case "id":
			c.ID, _ = p.str(v, f)
		case "className":
			c.ClassName, _ = p.str(v, f)
		case "parallelism":
			c.Parallelism, _ = p.integer(v, f, 1)
		case "numTasks":
			c.NumTasks, _ = p.integer(v, f, 1)
		case "constructorArgs":
			c.ConstructorArgs = p.values(v, f)
		case "configMethods":
			for j, m := range p.list(v, f) {
				c.ConfigMethods = append(c.ConfigMethods, p.configMethod(m, fmt.Sprintf("%s[%d]", f, j)))
			}
		case "properties":
			c.Properties = p.properties(v, f)
		case "command":
			haveCommand = true
			if dv := deref(v); dv != nil && dv.Kind == yaml.SequenceNode {
				command, _ = p.strings(v, f)
			} else if s, ok := p.str(v, f); ok {
				command = []string{s}
			}
			if len(command) == 0 || command[0] == "" {
				p.errorf(v, f, "empty command")
			}
		case "script":
			script, haveScript = p.str(v, f)
		case "fields":
			fields, haveFields = p.strings(v, f)
		case "outputs":
			c.Outputs = append(c.Outputs, p.outputs(v, f)...)
		case "config":
			ck, cv, _ := p.pairs(v, f)
			c.Conf = map[string]any{}
			for j, key := range ck {
				if val, ok := p.value(cv[j], join(f, key)); ok {
					c.Conf[key] = val
				}
			}
		default:
			p.unknown(knodes[i], field, componentKeys)
		}
	}
	if c.ID == "" && !slices.Contains(keys, "id") {
		p.errorf(n, join(field, "id"), "missing")
	}
	if haveFields {
		c.Outputs = append([]Output{{Stream: "default", Fields: fields, Line: n.Line}}, c.Outputs...)
	}
	switch {
	case haveCommand && c.ClassName != "":
		p.errorf(n, field, "give either command (a squall shell component) or className, not both")
	case haveScript && !haveCommand:
		p.errorf(n, join(field, "script"), "script needs a command")
	case haveCommand:
		c.Command = command
		if haveScript && script != "" {
			// One argv entry, as Storm passes ShellComponent.script
			// (streamparse_run splits it itself).
			c.Command = append(c.Command, script)
		}
	case c.ClassName == "" && !slices.Contains(keys, "className"):
		p.errorf(n, join(field, "className"), "missing: give className, or command for a shell component")
	}
	return c
}

func (p *parser) configMethod(n *yaml.Node, field string) ConfigMethod {
	n = deref(n)
	m := ConfigMethod{Line: n.Line}
	keys, vals, knodes := p.pairs(n, field)
	for i, k := range keys {
		switch k {
		case "name":
			m.Name, _ = p.str(vals[i], join(field, k))
		case "args":
			m.Args = p.values(vals[i], join(field, k))
		default:
			p.unknown(knodes[i], field, []string{"name", "args"})
		}
	}
	if m.Name == "" {
		p.errorf(n, join(field, "name"), "missing")
	}
	return m
}

// properties reads Flux's properties: a list of {name, value} (Flux) or a
// mapping.
func (p *parser) properties(n *yaml.Node, field string) map[string]any {
	n = deref(n)
	props := map[string]any{}
	if n.Kind == yaml.MappingNode {
		keys, vals, _ := p.pairs(n, field)
		for i, k := range keys {
			if v, ok := p.value(vals[i], join(field, k)); ok {
				props[k] = v
			}
		}
		return props
	}
	for j, e := range p.list(n, field) {
		f := fmt.Sprintf("%s[%d]", field, j)
		keys, vals, knodes := p.pairs(e, f)
		var name string
		var val any
		for i, k := range keys {
			switch k {
			case "name":
				name, _ = p.str(vals[i], join(f, k))
			case "value", "ref":
				val, _ = p.value(vals[i], join(f, k))
			default:
				p.unknown(knodes[i], f, []string{"name", "value"})
			}
		}
		if name != "" {
			props[name] = val
		}
	}
	return props
}

// outputs reads squall's outputs: {stream: [fields]} or
// {stream: {fields: [...], direct: true}}.
func (p *parser) outputs(n *yaml.Node, field string) []Output {
	keys, vals, _ := p.pairs(n, field)
	var out []Output
	for i, k := range keys {
		f := join(field, k)
		v := deref(vals[i])
		o := Output{Stream: k, Line: v.Line}
		if v.Kind == yaml.MappingNode {
			ok2, ov, on := p.pairs(v, f)
			for j, key := range ok2 {
				switch key {
				case "fields":
					o.Fields, _ = p.strings(ov[j], join(f, key))
				case "direct":
					var b bool
					if err := deref(ov[j]).Decode(&b); err != nil {
						p.errorf(ov[j], join(f, key), "want true or false, got %s", kindName(ov[j]))
					}
					o.Direct = b
				default:
					p.unknown(on[j], f, []string{"fields", "direct"})
				}
			}
		} else {
			o.Fields, _ = p.strings(v, f)
		}
		out = append(out, o)
	}
	return out
}

func (p *parser) stream(n *yaml.Node, field string) *Stream {
	n = deref(n)
	s := &Stream{Line: n.Line}
	keys, vals, knodes := p.pairs(n, field)
	haveGrouping := false
	for i, k := range keys {
		f := join(field, k)
		switch k {
		case "name":
			s.Name, _ = p.str(vals[i], f)
		case "from":
			s.From, _ = p.str(vals[i], f)
		case "to":
			s.To, _ = p.str(vals[i], f)
		case "grouping":
			haveGrouping = true
			s.Grouping = p.grouping(vals[i], f)
		default:
			p.unknown(knodes[i], field, streamKeys)
		}
	}
	if n.Kind != yaml.MappingNode {
		return s
	}
	for _, k := range []string{"from", "to", "grouping"} {
		if !slices.Contains(keys, k) {
			p.errorf(n, join(field, k), "missing")
		}
	}
	if !haveGrouping {
		s.Grouping.Type = "SHUFFLE"
	}
	return s
}

// Grouping types: Flux's, and squall's PARTIAL_KEY.
var groupingTypes = []string{"SHUFFLE", "FIELDS", "ALL", "GLOBAL", "NONE", "DIRECT", "LOCAL_OR_SHUFFLE", "PARTIAL_KEY", "CUSTOM"}

func (p *parser) grouping(n *yaml.Node, field string) Grouping {
	n = deref(n)
	g := Grouping{Line: n.Line, StreamID: "default"}
	keys, vals, knodes := p.pairs(n, field)
	for i, k := range keys {
		f := join(field, k)
		switch k {
		case "type":
			t, ok := p.str(vals[i], f)
			if !ok {
				continue
			}
			g.Type = strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToUpper(strings.TrimSpace(t)))
			if !slices.Contains(groupingTypes, g.Type) {
				p.errorf(vals[i], f, "unknown grouping %q (want one of %s)", t, strings.Join(groupingTypes, ", "))
			}
		case "streamId":
			g.StreamID, _ = p.str(vals[i], f)
		case "args":
			g.Args, _ = p.strings(vals[i], f)
		case "customClass":
			cn := deref(vals[i])
			cc := &CustomClass{Line: cn.Line}
			ck, cv, ckn := p.pairs(cn, f)
			for j, key := range ck {
				switch key {
				case "className":
					cc.ClassName, _ = p.str(cv[j], join(f, key))
				case "constructorArgs":
					cc.ConstructorArgs = p.values(cv[j], join(f, key))
				default:
					p.unknown(ckn[j], f, []string{"className", "constructorArgs"})
				}
			}
			g.CustomClass = cc
		default:
			p.unknown(knodes[i], field, groupingKeys)
		}
	}
	if n.Kind == yaml.MappingNode && !slices.Contains(keys, "type") {
		p.errorf(n, join(field, "type"), "missing (want one of %s)", strings.Join(groupingTypes, ", "))
	}
	switch g.Type {
	case "FIELDS", "PARTIAL_KEY":
		if len(g.Args) == 0 && g.CustomClass == nil {
			p.errorf(n, join(field, "args"), "a %s grouping needs the fields to group by", g.Type)
		}
	case "CUSTOM":
		if g.CustomClass == nil || g.CustomClass.ClassName == "" {
			p.errorf(n, join(field, "customClass"), "a CUSTOM grouping needs customClass.className")
		}
	}
	return g
}

// checkIDs reports duplicate and empty ids.
func (p *parser) checkIDs(d *Definition) {
	seen := map[string]*Component{}
	for _, c := range slices.Concat(d.Spouts, d.Bolts) {
		if c.ID == "" {
			continue
		}
		if prev := seen[c.ID]; prev != nil {
			p.errs = append(p.errs, &Error{Line: c.Line, Field: c.field("id"),
				Msg: fmt.Sprintf("id %q is already used at line %d", c.ID, prev.Line)})
			continue
		}
		seen[c.ID] = c
	}
}

func (c *Component) field(sub string) string {
	return join(fmt.Sprintf("%s[%d]", c.kind, c.index), sub)
}

func (s *Stream) field(sub string) string {
	return join(fmt.Sprintf("streams[%d]", s.index), sub)
}
