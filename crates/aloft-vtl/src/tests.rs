//! Rendering tests: Velocity's rules, and AWS's documented mapping-template examples.

use super::*;
use serde_json::json;

fn ctx(vars: serde_json::Value) -> Context {
    let mut c = Context::new();
    if let serde_json::Value::Object(m) = vars {
        for (k, v) in m {
            c.insert(&k, Value::from_json(&v));
        }
    }
    c
}

fn r(src: &str, vars: serde_json::Value) -> String {
    render(src, &ctx(vars)).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

/// A stand-in for API Gateway's `$input` with only `path('$')`/`json('$')`.
struct Input(serde_json::Value);
impl Host for Input {
    fn call(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        match name {
            "path" => Ok(Value::from_json(&self.0)),
            "json" => Ok(Value::from(self.0.to_string())),
            _ => Err(format!("no method {name}")),
        }
    }
}

#[test]
fn references() {
    let v = json!({"a": {"b": {"c": "deep"}}, "n": 3, "l": [1, 2]});
    assert_eq!(r("$a.b.c ${a.b.c}x $n", v.clone()), "deep deepx 3");
    assert_eq!(r("[$missing][$!missing][${missing}]", v.clone()), "[][][]");
    assert_eq!(r("$a.get('b').get('c')", v.clone()), "deep");
    assert_eq!(r("$l[1] $l.size() $l.get(0)", v.clone()), "2 2 1");
    assert_eq!(r("$ 5 $$ $.x $1", v.clone()), "$ 5 $$ $.x $1");
    assert_eq!(r("$n.", v.clone()), "3.");
    let mut strict = ctx(v);
    strict.null_as_empty = false;
    assert_eq!(
        render("$missing $!missing ${a.x}", &strict).unwrap(),
        "$missing  ${a.x}"
    );
}

#[test]
fn string_methods() {
    let v = json!({"s": "  Hello, World  ", "t": "a-b-c", "csv": "a,b,,c,,"});
    assert_eq!(r("$s.trim().length()", v.clone()), "12");
    assert_eq!(r("$s.trim().substring(0, 5)", v.clone()), "Hello");
    assert_eq!(r("$s.trim().substring(7)", v.clone()), "World");
    assert_eq!(
        r(
            "$s.indexOf('o') $s.lastIndexOf('o') $s.indexOf('z')",
            v.clone()
        ),
        "6 10 -1"
    );
    assert_eq!(
        r(
            "$t.replace('-', '+') $t.replaceAll('(\\w)-', '$1_')",
            v.clone()
        ),
        "a+b+c a_b_c"
    );
    assert_eq!(
        r("$t.split('-').size() $csv.split(',')", v.clone()),
        "3 [a, b, , c]"
    );
    assert_eq!(
        r("$t.toUpperCase() $t.toLowerCase()", v.clone()),
        "A-B-C a-b-c"
    );
    assert_eq!(
        r(
            "$t.contains('b') $t.startsWith('a') $t.endsWith('x') $t.equals('a-b-c') $t.isEmpty()",
            v.clone()
        ),
        "true true false true false"
    );
    assert_eq!(r("$t.matches('[a-c-]+') $t.charAt(2)", v.clone()), "true b");
    assert!(render("$t.substring(9)", &ctx(v)).is_err());
}

#[test]
fn literals_and_set() {
    assert_eq!(r("#set($x = 'a $y')$x", json!({"y": 1})), "a $y");
    assert_eq!(r("#set($x = \"a $y\")$x", json!({"y": 1})), "a 1");
    assert_eq!(
        r("#set($x = \"say \"\"hi\"\"\")$x", json!({})),
        "say \"hi\""
    );
    assert_eq!(
        r("#set($l = [1, 'two', true])$l $l.size()", json!({})),
        "[1, two, true] 3"
    );
    assert_eq!(
        r("#set($l = [1..3])$l  #set($d = [3..1])$d", json!({})),
        "[1, 2, 3][3, 2, 1]"
    );
    assert_eq!(
        r("#set($m = {'a': 1, \"b\": [2]})$m $m.b[0]", json!({})),
        "{a=1, b=[2]} 2"
    );
    assert_eq!(r("#set($m = {})#set($m.k = 'v')$m.k", json!({})), "v");
    assert_eq!(r("#set($x = 1.5)$x|#set($y = 2.0)$y", json!({})), "1.5|2.0");
    // Velocity 1.7: a null right side leaves the variable as it was.
    assert_eq!(
        r("#set($x = 'keep')#set($x = $nothing)$x", json!({})),
        "keep"
    );
}

#[test]
fn shared_collections_are_mutable() {
    let src = "#set($l = [])#set($m = {})#set($a = $l)#set($_ = $a.add('x'))\
               #set($_ = $m.put('k', $l))$l $m $m.put('k', 2) $m.keySet() $l.add('y')";
    assert_eq!(r(src, json!({})), "[x] {k=[x]} [x] [k] true");
}

#[test]
fn arithmetic_and_comparisons() {
    let v = json!({"a": 7, "b": 2, "f": 1.5, "s": "7"});
    assert_eq!(
        r("#set($x = $a / $b)$x|#set($x = $a % $b)$x", v.clone()),
        "3|1"
    );
    assert_eq!(
        r("#set($x = $a * $f)$x|#set($x = $a - $b * 2)$x", v.clone()),
        "10.5|3"
    );
    assert_eq!(
        r("#set($x = ($a + 1) * 2)$x|#set($x = -$a)$x", v.clone()),
        "16|-7"
    );
    assert_eq!(r("#set($x = 'a' + $a)$x", v.clone()), "a7");
    assert_eq!(r("#set($x = 0)#set($x = $a / 0)$x", v.clone()), "0");
    assert_eq!(
        r(
            "#if($a > $b && $b >= 2 and $a != 8)y#{else}n#end",
            v.clone()
        ),
        "y"
    );
    assert_eq!(
        r("#if($a == $s)eq#end #if($a lt 8)lt#end", v.clone()),
        "eq lt"
    );
    assert_eq!(
        r("#if(!$missing)none#end #if(not $a)x#else y#end", v.clone()),
        "none  y"
    );
}

#[test]
fn if_elseif_else_and_truthiness() {
    let src = "#if($v == 1)one#elseif($v == 2)two#else other#end";
    assert_eq!(r(src, json!({"v": 1})), "one");
    assert_eq!(r(src, json!({"v": 2})), "two");
    assert_eq!(r(src, json!({"v": 3})), " other");
    // Velocity 1.7: an empty string, zero and an empty list are all true.
    assert_eq!(
        r(
            "#if($s)t#end#if($z)t#end#if($l)t#end#if($f)t#end#if($n)t#end",
            json!({"s": "", "z": 0, "l": [], "f": false, "n": null})
        ),
        "ttt"
    );
}

#[test]
fn foreach_state() {
    let v = json!({"items": ["a", "b", "c"], "m": {"x": 1, "y": 2}});
    assert_eq!(
        r(
            "#foreach($i in $items)$foreach.index:$foreach.count:$i#if($foreach.hasNext),#end#end",
            v.clone()
        ),
        "0:1:a,1:2:b,2:3:c"
    );
    assert_eq!(r("#foreach($v in $m)$v#end", v.clone()), "12");
    assert_eq!(
        r("#foreach($k in $m.keySet())$k=$m.get($k);#end", v.clone()),
        "x=1;y=2;"
    );
    assert_eq!(
        r(
            "#foreach($i in [1..10])#if($i > 3)#break#end$i#end",
            v.clone()
        ),
        "123"
    );
    assert_eq!(
        r("#foreach($i in $items)$velocityCount#end", v.clone()),
        "123"
    );
    assert_eq!(
        r("#set($i = 'kept')#foreach($i in [1])#end$i", v.clone()),
        "kept"
    );
    assert_eq!(
        r(
            "#foreach($a in [1,2])#foreach($b in [1])$foreach.parent.index#end#end",
            v.clone()
        ),
        "01"
    );
    assert_eq!(r("a#stop b", v), "a");
}

#[test]
fn comments_escapes_and_unparsed() {
    assert_eq!(r("a## comment\nb", json!({})), "ab");
    assert_eq!(r("a#* block\n comment *#b", json!({})), "ab");
    assert_eq!(r("#[[ $raw #if ]]#", json!({})), " $raw #if ");
    assert_eq!(r("\\$x \\#if", json!({"x": 1})), "$x #if");
    assert_eq!(
        r("a # b #1 #{notadirective}", json!({})),
        "a # b #1 #{notadirective}"
    );
}

#[test]
fn macros() {
    let src = "#macro(greet $who)Hi $who!#end#greet('Bob') #greet($n)";
    assert_eq!(r(src, json!({"n": "Ann"})), "Hi Bob! Hi Ann!");
}

#[test]
fn directive_lines_keep_indentation_and_lose_their_newline() {
    let src = "a\n#if(true)\nb\n#end\nc\n";
    assert_eq!(r(src, json!({})), "a\nb\nc\n");
    let src = "[\n  #foreach($i in [1,2])\n  x$i\n  #end\n]";
    assert_eq!(r(src, json!({})), "[\n    x1\n    x2\n  ]");
    // #set also takes its indentation.
    assert_eq!(
        r("{\n    #set($a = 1)\n    \"a\": $a\n}", json!({})),
        "{\n    \"a\": 1\n}"
    );
    assert_eq!(r("x #if(true) y #end z", json!({})), "x  y  z");
}

#[test]
fn seed_004_notes_template_renders_as_aws_does() {
    let template = "#set($inputRoot = $input.path('$'))\n[\n    #foreach($elem in $inputRoot)\n    {\n    \"NoteId\" : \"$elem.NoteId\",\n    \"Note\" : \"$elem.Note\"\n    } \n    #if($foreach.hasNext),#end\n    #end\n]";
    let mut c = Context::new();
    c.insert(
        "input",
        Value::host(Input(json!([
            {"UserId": "student", "NoteId": 1, "Note": "hello", "Extra": "x"},
            {"UserId": "student", "NoteId": 2, "Note": "world"}
        ]))),
    );
    let out = render(template, &c).unwrap();
    assert_eq!(
        out,
        "[\n        {\n    \"NoteId\" : \"1\",\n    \"Note\" : \"hello\"\n    } \n    ,        {\n    \"NoteId\" : \"2\",\n    \"Note\" : \"world\"\n    } \n        ]"
    );
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        parsed,
        json!([{"NoteId": "1", "Note": "hello"}, {"NoteId": "2", "Note": "world"}])
    );

    c.insert("input", Value::host(Input(json!([]))));
    assert_eq!(render(template, &c).unwrap(), "[\n    ]");
}

#[test]
fn aws_documented_example_photos() {
    // The "photos" example from API Gateway's mapping template documentation.
    let template = "#set($inputRoot = $input.path('$'))\n{\n  \"photos\": [\n#foreach($elem in $inputRoot.photos.photo)\n    {\n      \"id\": \"$elem.id\",\n      \"title\": \"$elem.title\"\n    }#if($foreach.hasNext),#end\n\n#end\n  ]\n}";
    let mut c = Context::new();
    c.insert(
        "input",
        Value::host(Input(json!({"photos": {"page": 1, "photo": [
            {"id": "12345678901", "owner": "23456789@A12", "title": "Example title"},
            {"id": "23456789012", "owner": "34567890@B23", "title": "Another title"}
        ]}}))),
    );
    let out = render(template, &c).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        parsed,
        json!({"photos": [{"id": "12345678901", "title": "Example title"}, {"id": "23456789012", "title": "Another title"}]})
    );
    assert_eq!(
        out,
        "{\n  \"photos\": [\n    {\n      \"id\": \"12345678901\",\n      \"title\": \"Example title\"\n    },\n    {\n      \"id\": \"23456789012\",\n      \"title\": \"Another title\"\n    }\n  ]\n}"
    );
}

#[test]
fn syntax_errors_are_reported_not_panics() {
    for bad in [
        "#if($a)",
        "#end",
        "#else",
        "#set($a 1)",
        "#foreach($a $b)#end",
        "$a.b(",
        "#set($a = [1,)",
        "#set($a = \"#if\")",
        "#set($a = {'k' 1})",
        "#if(",
        "${a",
    ] {
        let res = render(bad, &Context::new());
        if bad == "${a" {
            assert_eq!(res.unwrap(), "${a");
        } else {
            assert!(res.is_err(), "{bad:?} should fail");
        }
    }
    let deep = "#if(true)".repeat(500);
    assert!(render(&deep, &Context::new()).is_err());
    let parens = "(".repeat(5000);
    assert!(render(&format!("#set($a = {parens}"), &Context::new()).is_err());
    assert!(render("#foreach($i in [1..1000000000])#end", &Context::new()).is_err());
}

#[test]
fn host_errors_fail_the_rendering() {
    let mut c = Context::new();
    c.insert("input", Value::host(Input(json!(1))));
    assert!(render("$input.nope()", &c).is_err());
}
