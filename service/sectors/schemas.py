from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints

from service.kit.http import ListQuery, filter_values
from service.kit.schemas import InputModel, OutputModel, patch_of
from service.kit.types import SLUG_PATTERN, SearchText, ShortName

SectorCode = Annotated[str, StringConstraints(max_length=40, pattern=SLUG_PATTERN)]
SectorKind = Literal["sector", "emerging-industry"]
NaceCode = Annotated[str, StringConstraints(max_length=10, pattern=r"^[A-U](\d{2}(\.\d{1,2})?)?$|^\d{2}(\.\d{1,2})?$")]


def sector_list(description: str = "Sector codes from `/v1/sectors`.") -> Any:
    return Field(default_factory=list, max_length=50, description=description)


class SectorCreate(InputModel):
    code: SectorCode
    name: ShortName
    kind: SectorKind = "sector"
    nace_codes: list[NaceCode] = Field(default_factory=list, max_length=50, description="NACE Rev. 2 codes, e.g. `26.7`.")


# patch_of builds the model at run time (every field optional); a type checker knows it
# as an InputModel, which is all that merge() and the routes rely on.
if TYPE_CHECKING:
    SectorPatch = InputModel
else:
    SectorPatch = patch_of(SectorCreate, "SectorPatch", exclude=("code",))


class Sector(OutputModel):
    code: str
    name: str
    kind: SectorKind
    nace_codes: list[str]


class SectorQuery(ListQuery):
    kind: list[SectorKind] = filter_values("`sector` or `emerging-industry`.")
    q: SearchText | None = Field(None, description="Words in the code or name.")
