"""``Layer.aliases_input`` says which kinds torch answers with a view of the input's storage:
checked against torch's own storages, not against the table."""

import pytest

import symcost as sc

torch = pytest.importorskip("torch")

#: kind -> what torch runs for it, on a (2, 4, 6, 8) tensor
TORCH = {
    "Dropout": lambda x: torch.nn.Dropout().eval()(x),
    "Identity": lambda x: torch.nn.Identity()(x),
    "Flatten": lambda x: torch.flatten(x, 1),
    "Unflatten": lambda x: x.unflatten(1, (2, 2)),
    "Reshape": lambda x: x.reshape(2, -1),
    "View": lambda x: x.view(2, -1),
    "Squeeze": lambda x: x[:, :1].squeeze(1),
    "Unsqueeze": lambda x: x.unsqueeze(1),
    "Permute": lambda x: x.permute(0, 2, 1, 3),
    "Transpose": lambda x: x.transpose(1, 2),
    "Expand": lambda x: x[:, :1].expand(2, 4, 6, 8),
    "Select": lambda x: x.select(1, 0),
    "Slice": lambda x: x[:, 1:3],
    "Chunk": lambda x: x.chunk(2, 1)[1],
    "Split": lambda x: x.split(3, 2)[1],
    "Unbind": lambda x: x.unbind(1)[2],
    # kinds that write a new tensor
    "Contiguous": lambda x: x.transpose(1, 2).contiguous(),
    "ReLU": lambda x: torch.relu(x),
    "Conv2d": lambda x: torch.nn.Conv2d(4, 4, 1)(x),
    "Cat": lambda x: torch.cat([x, x], 1),
    "Add": lambda x: x + x,
}


@pytest.mark.parametrize("kind", sorted(TORCH))
def test_aliasing_matches_torch_storage(kind: str) -> None:
    x = torch.randn(2, 4, 6, 8)
    with torch.no_grad():
        y = TORCH[kind](x)
    shares = y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert sc.layer_class(kind).aliases_input == shares
