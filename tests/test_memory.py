"""The string memory: each substitution and parsing rule, the paper's examples, the pitfalls."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mannsim.memory import (
    MAX_DEPTH,
    MAX_VALUE,
    Memory,
    MemoryError_,
    Renderer,
    apply_answer,
    parse_assignments,
    parse_updates,
    render,
    substitute,
)

B_TEXT = ('@[boot]result = " op="%[C]" %[i]="1" i+=1 "\n'
          'if @[@[i]]==1 then result = " op="%[A]" %[i]="1" i+=1 "\n'
          '$result\n')


def paper_memory():
    return Memory({"boot": "EXAMPLES\n", "i": "295", "295": "1", "B": B_TEXT, "op": B_TEXT}, default="0")


def test_read_substitution_nested_symbol_under_head():
    mem = paper_memory()
    assert render("@[@[i]]", mem) == "1"
    assert render(B_TEXT, mem) == (
        'EXAMPLES\nresult = " op="%[C]" %[i]="1" i+=1 "\n'
        'if 1==1 then result = " op="%[A]" %[i]="1" i+=1 "\n$result\n')


def test_missing_cell_reads_blank():
    mem = paper_memory()
    mem["i"] = "1000"
    assert render("@[@[i]]", mem) == "0"


def test_negative_cells_can_be_read_and_written():
    # the paper's \w+ names cannot read @[-1]; mannsim's [\w-]+ can
    mem = Memory({"i": "-1", "-1": "1"}, default="0")
    assert render("@[@[i]]", mem) == "1"
    apply_answer('" op="halt" %[i]="0" i-=1 "', mem)
    assert mem["-1"] == "0" and mem["i"] == "-2"


def test_write_substitution_is_one_pass():
    mem = Memory({"A": "%[B]", "B": "no"}, default="0")
    assert substitute("x=%[A]", mem) == "x=%[B]"  # inserted text is not scanned again


def test_unmatched_text_passes_through():
    # pitfall: a substitution that returns "" when nothing matches swallows op="halt"
    mem = paper_memory()
    assert substitute('" op="halt" "', mem) == '" op="halt" "'
    assert render("plain text", mem) == "plain text"
    apply_answer('" op="halt" "', mem)
    assert mem["op"] == "halt"


def test_paper_cycle_assignments_then_updates():
    mem = paper_memory()
    assigns, updates = apply_answer('" op="%[B]" %[i]="0" i+=1 "', mem)
    assert assigns == [("op", B_TEXT), ("295", "0")]
    # the copied instruction text holds 'i+=1' twice; only the update outside it applies
    assert updates == [("i", 1)]
    assert mem["i"] == "296" and mem["295"] == "0" and mem["op"] == B_TEXT


def test_cell_write_regex_without_stray_space():
    # pitfall: a printed regex with a stray space in (?: [^"]*) breaks tape writes
    assert parse_assignments('295="1"') == [("295", "1")]
    assert parse_assignments(' 0="1" 1="0"') == [("0", "1"), ("1", "0")]


def test_instruction_without_final_newline_is_cut_at_first_quote():
    # pitfall: instruction texts must end with a newline, or a copied one is cut
    mem = Memory({"B": B_TEXT.rstrip("\n"), "i": "0"}, default="0")
    assigns, _ = apply_answer('" op="%[B]" %[i]="0" i+=1 "', mem)
    assert assigns[0] == ("op", "@[boot]result = ")
    mem = Memory({"B": B_TEXT, "i": "0"}, default="0")
    assigns, _ = apply_answer('" op="%[B]" %[i]="0" i+=1 "', mem)
    assert assigns[0] == ("op", B_TEXT)


def test_updates_add_and_subtract():
    assert parse_updates("i+=1 j-=12 k+=0") == [("i", 1), ("j", -12), ("k", 0)]
    assert parse_updates('x="i+=5" i-=1') == [("i", -1)]
    mem = Memory({"i": "3"})
    apply_answer("i-=1", mem)
    assert mem["i"] == "2"


def test_update_of_non_integer_is_refused_without_change():
    mem = Memory({"i": "x", "op": "A"})
    with pytest.raises(MemoryError_):
        apply_answer('op="B" i+=1', mem)
    assert mem["op"] == "A"  # nothing applied


def test_size_caps():
    mem = Memory({"i": "0"})
    with pytest.raises(MemoryError_):
        apply_answer('op="' + "x" * (MAX_VALUE + 1) + '"', mem)
    loop = Memory({"a": "@[a]"})
    with pytest.raises(MemoryError_, match="deeper"):
        render("@[a]", loop)
    grow = Memory({"a": "@[a]@[a]"})
    with pytest.raises(MemoryError_):
        render("@[a]", grow)


def test_depth_bound_is_exact():
    chain = {f"k{d}": f"@[k{d + 1}]" for d in range(MAX_DEPTH - 1)}
    chain[f"k{MAX_DEPTH - 1}"] = "end"
    assert render("@[k0]", Memory(chain)) == "end"


def test_llm_text_is_never_evaluated():
    mem = Memory({"i": "0"})
    apply_answer('op="__import__(\'os\').system(\'false\')" i+=1', mem)
    assert mem["op"] == "__import__('os').system('false')"


PIECES = st.sampled_from(["@[", "]", "@[i]", "@[@[i]]", "@[boot]", "@[x]", "[", "@", "i", "x",
                          "0", "-1", " ", "\n", "text", "%[i]", "@[-1]", "@[@[j]]", "j"])
VALUES = st.text(alphabet="@[]ijx01-b \n", max_size=8) | st.sampled_from(
    ["0", "1", "i", "x", "-1", "@[i]", "@[x]", "boot", "j", "@[@[i]]", "]", "@["])


@settings(max_examples=1500, deadline=None)
@given(template=st.lists(PIECES, max_size=12).map("".join),
       values=st.dictionaries(st.sampled_from(["i", "x", "j", "boot", "0", "1", "-1", "b"]), VALUES))
@pytest.mark.slow
def test_fast_renderer_equals_the_papers_passes(template, values):
    mem = Memory(values, default="0")
    try:
        expected = render(template, mem)
    except MemoryError_:
        expected = MemoryError_
    try:
        got = Renderer(mem)(template)
        got = Renderer(mem)(template) if got is None else got
    except MemoryError_:
        got = MemoryError_
    assert got == expected
