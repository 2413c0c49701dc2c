"""A corpus of bad spec files: each one gives one line naming the file, the path and the rule, exit 2.

None of them may run code (the corpus tries ``os.system('touch ...')`` in
several ways; the sentinel must never appear, and ``os.system``,
``subprocess`` and ``eval``/``exec`` are booby-trapped while they load) or
take more than a second.
"""

import builtins
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symcost.cli import main

CORPUS = Path(__file__).parent / "spec_errors"
SENTINEL = Path("/tmp/symcost-pwned")

#: file -> the fragment of its one-line error (after "symcost: error: FILE: "), or a tuple of the fragments
#: that the supported versions of a parsing library give (one of them must appear).
EXPECTED = {
    # malformed, empty
    "empty.yaml": "is empty; a spec needs at least 'layers'",
    "comments_only.yaml": "is empty",
    "malformed_indent.yaml": "malformed YAML: line 3: ",
    "malformed_unclosed.yaml": "malformed YAML: line 2: ",
    "malformed_trailing_comma.json": "malformed JSON: line 1 column 30",
    "malformed_unclosed.json": "malformed JSON: line 1 column 29: Expecting ',' delimiter",
    "empty.json": "malformed JSON: line 1 column 1: Expecting value",
    "json_nan.json": "NaN is not a number spec files accept",
    "json_infinity.json": "Infinity is not a number spec files accept",
    "not_utf8.yaml": "is not UTF-8 text",
    "wrong_suffix.txt": "spec files end in .yaml, .yml or .json",
    "top_level_list.yaml": "must be a mapping with name, input, symbols, layers, got a list of 1",
    "top_level_scalar.yaml": "must be a mapping with name, input, symbols, layers, got str 'hello'",
    "no_layers.yaml": "has no 'layers'",
    "layers_empty.yaml": "layers: must be a non-empty list of layers, got an empty list",
    "layers_mapping.yaml": "layers: must be a non-empty list of layers, got a mapping",
    "unknown_top_key.yaml": "the spec has no key 'layer'; did you mean 'layers'?",
    # YAML that tries to build Python objects, or to expand exponentially
    "python_tag.yaml": "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    "python_name_tag.yaml": "could not determine a constructor for the tag 'tag:yaml.org,2002:python/name:os.system'",
    "billion_laughs.yaml": "line 2: YAML aliases (*a) are not allowed",
    "recursive_anchor.yaml": "YAML aliases (*a) are not allowed",
    # libyaml <= 0.2.5 parses any depth; PyYAML 6.0.4's libyaml stops at its own nesting limit first
    "deep_yaml.yaml": ("layers[0]: must be a mapping with a 'kind', got a list of 1",
                       "malformed YAML: line 1: exceeded maximum nesting depth"),
    "deep_json.json": "malformed JSON: nested too deeply",
    "deep_containers.yaml": "containers are nested deeper than 32 levels",
    "too_many_layers.yaml": "layers[10000]: a spec may hold at most 10,000 layers",
    # unknown kinds and arguments, wrong types
    "unknown_kind.yaml": "layers[0]: unknown kind 'conv4d'; did you mean 'Conv3d'?",
    "kind_missing.yaml": "layers[0]: needs a 'kind' (text), got nothing",
    "kind_not_text.yaml": "layers[0]: needs a 'kind' (text), got int 3",
    "layer_not_mapping.yaml": "layers[0]: must be a mapping with a 'kind', got str 'relu'",
    "unknown_argument.yaml": "layers[0]: Conv2d has no argument 'strides'; did you mean 'stride'?",
    "misspelt_argument.yaml": "Conv2d has no argument 'out_channel'; did you mean 'out_channels'?",
    "missing_required.yaml": "layers[0]: Conv2d needs 'kernel_size'",
    "container_unknown_key.yaml": "layers[0]: residual has no key 'bodies'; did you mean 'body'?",
    "residual_no_body.yaml": "layers[0]: residual needs 'body'",
    "concat_one_branch.yaml": "layers[0].branches: must be a list of two or more layer lists, got a list of 1",
    "repeat_no_times.yaml": "layers[0].times: times is missing or null",
    "bool_for_int.yaml": "layers[0]: Conv2d: kernel_size must be an int or a SymPy expression, got the bool True",
    "text_for_bool.yaml": "layers[0].bias: bias must be true or false, got str 'maybe'",
    "float_kernel.yaml": "layers[0]: Conv2d: kernel_size must be exact, got the float 3.5",
    "triple_kernel.yaml": "layers[0]: Conv2d: kernel_size must be one value or a (height, width) pair, got (3, 3, 3)",
    "long_kernel.yaml": "layers[0].kernel_size: must be one value or a list of at most 16, got 17 values",
    "mapping_value.yaml": "layers[0].stride: stride must be an integer, a symbol or an expression, got a mapping",
    "null_value.yaml": "layers[0].out_channels: out_channels is missing or null",
    "padding_word.yaml": "layers[0].padding: padding must be a number, an expression or one of 'same', 'valid', got 'full'",
    "name_not_text.yaml": "layers[0]: name must be non-empty text, got a list of 1",
    "input_not_list.yaml": "input: must be a list of 1 to 16 sizes such as [3, H, W], got int 224",
    "input_too_many_dims.yaml": "input: must be a list of 1 to 16 sizes such as [3, H, W], got a list of 17",
    "symbols_number.yaml": "symbols: must be a list of names or a mapping, got int 5",
    "symbol_bad_name.yaml": "symbols.1x: symbol name must be letters, digits and underscores starting with a letter",
    # negative, zero and huge values
    "zero_out_channels.yaml": "layers[0]: Conv2d: out_channels must be a positive integer, got 0",
    "negative_stride.yaml": "layers[0]: Conv2d: stride must be a positive integer, got -1",
    "negative_padding.yaml": "layers[0]: Conv2d: padding must be an integer >= 0, got -2",
    "zero_kernel.yaml": "layers[0]: Conv2d: kernel_size must be a positive integer, got 0",
    "zero_repeat.yaml": "layers[0]: Repeat: times must be a positive integer, got 0",
    "input_zero.yaml": "input: Shape: entry 1 must be a positive integer, got 0",
    "dropout_p_two.yaml": "layers[0]: Dropout: p must be in [0, 1], got 2",
    "huge_int.yaml": "layers[0].out_channels: out_channels must be at most 10**18 in size, got a 31-digit number",
    "huge_expression.yaml": "layers[0].out_channels: '10**30': numbers must be at most 10**18",
    "huge_product.yaml": "'1000000000*1000000000*1000': numbers must be at most 10**18",
    "groups_not_dividing.yaml": "layers[0]: Conv2d: groups must divide out_channels (8), got 3",
    "pool_padding_too_big.yaml": "layers[0]: MaxPool2d: padding must be at most half the kernel size (1)",
    "separable_same_stride2.yaml": "layers[0]: SeparableConv2d: padding='same' needs stride 1, as in torch, got (2, 2)",
    "flatten_start_dim_out_of_range.yaml": "layers[0]: layer 0 \"0\" (Flatten) on input (3, 8, 8): Flatten: "
                                           "start_dim must select a dimension 1..3 (or -3..-1), not the batch (0), got 5",
    # junctions and kernels that do not fit
    "residual_channel_mismatch.yaml":
        'layers[0]: residual "0.add": body output (16, 32, 32) and shortcut output (3, 32, 32) do not match',
    "residual_stride_mismatch.yaml":
        'layers[0]: residual "0.add": body output (8, 16, 16) and shortcut output (8, 32, 32) do not match',
    "concat_spatial_mismatch.yaml":
        'layers[0]: concat "0.concat": branch outputs (8, 32, 32) and (8, 30, 30) differ outside the channels',
    "kernel_larger_than_input.yaml":
        'layers[0]: layer 0 "0" (Conv2d) on input (3, 4, 4): Conv2d: kernel_size does not fit in the padded input',
    "lstm_on_feature_map.yaml": 'layers[1]: layer 1 "1" (LSTM) on input (8, 6, 6): LSTM: expects a sequence (L, input_size)',
    # expressions that try to run code, or to be expensive
    "expr_import.yaml": "may only use integers, names, + - * / // ** and parentheses, not function calls",
    "expr_json_system.json": "not function calls",
    "expr_call.yaml": "'print(1)': may only use integers, names, + - * / // ** and parentheses, not function calls",
    "expr_attribute.yaml": "'C.__class__': may only use integers, names, + - * / // ** and parentheses, not attribute access",
    "expr_json_dunder.json": "'().__class__.__mro__': may only use",
    "expr_lambda.yaml": "'lambda: 3': may only use integers, names, + - * / // ** and parentheses, not lambdas",
    "expr_subscript.yaml": "not subscripts",
    "expr_comprehension.yaml": "not comprehensions",
    "expr_walrus.yaml": "not assignments",
    "expr_fstring.yaml": "not f-strings",
    "expr_modulo.yaml": "not the operator Mod",
    "expr_string_literal.yaml": "str literals are not allowed",
    "expr_float_huge.yaml": "'1e400': floats are not allowed; write exact fractions such as 3/4",
    "expr_float_half.yaml": "'0.5*C': floats are not allowed",
    "expr_deep.yaml": "is nested deeper than 24 levels",
    "expr_long.yaml": "is longer than 200 characters",
    "expr_pow_tower.yaml": "'9**9**9': exponents must be at most 64",
    "expr_symbolic_exponent.yaml": "'2**C': exponents must be integers",
    "expr_div_zero.yaml": "'C/0': divides by zero",
    "expr_unknown_symbol.yaml": "unknown symbol 'C_inn'; did you mean 'C_in'? declare it under 'symbols:'",
    "expr_syntax.yaml": "'2 +* 3': is not an arithmetic expression",
    "expr_pow_nested.yaml": "'((C**64)**64)**64': exponents must be at most 64, got 4096 after simplifying",
    # literals Python will not read, keys and names that are not plain text
    # (Pythons without the int-str limit, before 3.10.7, read the literal and the 10**18 bound refuses it)
    "huge_int_literal.yaml": ("malformed YAML: an integer literal has more than 4,300 digits",
                              "out_channels must be at most 10**18 in size, got a 5000-digit number"),
    "huge_int_literal.json": ("malformed JSON: an integer literal has more than 4,300 digits",
                              "out_channels must be at most 10**18 in size, got a 5000-digit number"),
    "symbols_nested_list.yaml": "symbols[0]: a symbol is a name, got a list of 1",
    "layer_key_not_text.yaml": "layers[0]: ReLU: argument names are text, got int 1",
    "nul_in_string.yaml": "malformed YAML: unacceptable character #x0000: control characters are not allowed",
    "nul_escaped_name.yaml": "layers[0]: relu: name must be printable text without control characters",
    "name_escape.yaml": r"name must be printable text without control characters (newlines, escapes) of at most 200 "
                        r"characters, got 'x\x1b[31mred\nrow'",
    "model_name_newline.yaml": "name: the spec: name must be printable text without control characters",
    # LaTeX display names that would run TeX or leave math mode in Markdown
    "latex_input.yaml": r"symbols.n: latex display name of 'n' may not use \input",
    "latex_markdown.yaml": "symbols.n: latex display name of 'n' may not contain '$'",
    # work that must be bounded where it is created
    "repeat_huge_times.yaml": "times=1000000000000000000 would unroll to more than 10,000 rows, so the block is "
                              "counted once, so the block must keep its shape",
}


def test_the_corpus_is_complete_and_large_enough():
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.iterdir())
    assert len(EXPECTED) >= 50


@pytest.fixture
def booby_traps(monkeypatch):
    """Anything that would run code fails the test loudly."""
    def trap(*args, **kwargs):
        raise AssertionError(f"code execution attempted: {args!r:.80}")

    monkeypatch.setattr(os, "system", trap)
    monkeypatch.setattr(subprocess, "Popen", trap)
    monkeypatch.setattr(builtins, "eval", trap)
    monkeypatch.setattr(builtins, "exec", trap)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_spec_gives_one_line_and_exit_2(name, capsys, booby_traps):
    SENTINEL.unlink(missing_ok=True)
    start = time.perf_counter()
    status = main(["report", str(CORPUS / name)])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"symcost: error: {name}: "), err
    expected = EXPECTED[name]
    assert any(fragment in err for fragment in (expected if isinstance(expected, tuple) else (expected,))), err
    assert elapsed < 5.0, f"{name} took {elapsed:.2f} s"  # a hang guard, not a benchmark: loaded machines are slow
    assert not SENTINEL.exists()


@pytest.mark.parametrize("name", ["expr_import.yaml", "python_tag.yaml", "billion_laughs.yaml", "deep_json.json"])
def test_bad_spec_from_the_shell_has_no_traceback(name):
    SENTINEL.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "symcost", "report", str(CORPUS / name)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert not SENTINEL.exists()


def test_oversized_spec_is_refused_before_reading(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text("layers:\n" + "  - {kind: relu}  # padding the file out\n" * 30000)
    assert main(["report", str(big)]) == 2
    assert "spec files may be at most 1,000,000" in capsys.readouterr().err
