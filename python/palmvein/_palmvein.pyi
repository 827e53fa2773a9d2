# SPDX-License-Identifier: Apache-2.0
# Typed stub of the extension module palmvein._palmvein (python/src/*.cpp). Kept complete by the test
# python/tests/test_stub.py: every public name and member of the module must appear here.
from enum import Enum
from os import PathLike
from typing import Optional, Sequence, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str
LOWEST_SCORE: float
HAVE_SENSORS: bool
BytesLike = Union[bytes, bytearray, memoryview]
PathType = Union[str, PathLike]

def default_algorithm_id() -> int: ...
def algorithm_name(algorithm_id: int) -> str: ...

class Error(RuntimeError): ...
class FormatError(Error, ValueError): ...
class InvalidArgument(Error, ValueError): ...
class IoError(Error, OSError): ...
class GalleryError(Error):
    fault: str  # "wrong-key", "tampered", "not-found", "already-exists", ...
class DeviceError(Error):
    fault: str  # "not-found", "busy", "removed", "timeout", ...

# -- images ----------------------------------------------------------------------------------------
class PixelFormat(Enum):
    Gray8: PixelFormat
    Gray16: PixelFormat

class ImageKind(Enum):
    FullHand: ImageKind
    Roi: ImageKind

class Image:
    """A grey image; numpy.asarray(image) is a view of its pixels (no copy)."""
    def __init__(self, array: npt.NDArray[Union[np.uint8, np.uint16]], significant_bits: int = 0) -> None: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def format(self) -> PixelFormat: ...
    @property
    def significant_bits(self) -> int: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    def to_gray8(self) -> Image: ...
    def numpy(self) -> npt.NDArray[Union[np.uint8, np.uint16]]: ...

def read_image(path: str) -> Image: ...
def decode_image(encoded: BytesLike) -> Image: ...
def encode_image(image: Image, extension: str = ".png") -> bytes: ...
def write_image(path: str, image: Image) -> None: ...

# -- ROI and extraction ----------------------------------------------------------------------------
class RoiFailure(Enum):
    None_: RoiFailure
    NoHand: RoiFailure
    HandCutOff: RoiFailure
    TooDark: RoiFailure
    TooBright: RoiFailure
    Blurred: RoiFailure
    TooClose: RoiFailure
    TooFar: RoiFailure
    NoKeyPoints: RoiFailure
    @property
    def code(self) -> str: ...  # "no-hand", "too-dark", ...
    @property
    def guidance(self) -> str: ...  # one line for the user

class RoiMethod(Enum):
    Passthrough: RoiMethod
    FingerValleys: RoiMethod
    PalmCircle: RoiMethod

class CaptureQuality:
    exposure: float
    sharpness: float
    centring: float
    size: float
    advice: RoiFailure

class PalmRoi:
    image: Image
    corners: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]
    hand_outline: list[tuple[float, float]]
    key_points: list[tuple[float, float]]
    rotation_degrees: float
    scale: float
    quality: float
    assessment: CaptureQuality
    method: RoiMethod

class ExtractResult:
    @property
    def ok(self) -> bool: ...
    @property
    def template(self) -> Optional[Template]: ...
    @property
    def failure(self) -> RoiFailure: ...
    @property
    def roi(self) -> Optional[PalmRoi]: ...
    def __bool__(self) -> bool: ...

class TemplateExtractor:
    """Thread-safe: extract() may run in several threads at once (it releases the GIL)."""
    def __init__(self, roi_size: int = 128) -> None: ...
    @overload
    def extract(self, image: Image, kind: ImageKind = ImageKind.FullHand) -> ExtractResult: ...
    @overload
    def extract(self, image: npt.NDArray[Union[np.uint8, np.uint16]], kind: ImageKind = ImageKind.FullHand) -> ExtractResult: ...
    @overload
    def extract(self, frame: Frame, kind: ImageKind = ImageKind.FullHand) -> ExtractResult: ...

def draw_roi_overlay(frame: Image, roi: PalmRoi) -> Image: ...

# -- templates and 1:1 -----------------------------------------------------------------------------
class Template:
    """A versioned template; a value (==, hash, pickle)."""
    @staticmethod
    def from_bytes(data: BytesLike) -> Template: ...
    def to_bytes(self) -> bytes: ...
    @property
    def algorithm(self) -> int: ...
    @property
    def size(self) -> int: ...

def match(a: Template, b: Template) -> float: ...

class Matcher:
    def __init__(self, probe: Template) -> None: ...
    def score(self, candidate: Template) -> float: ...
    def scores(self, candidates: Sequence[Template]) -> npt.NDArray[np.float64]: ...

class Calibration:
    @staticmethod
    def builtin() -> Calibration: ...
    @staticmethod
    def load(csv: str) -> Calibration: ...
    def threshold_for_fmr(self, fmr: float) -> float: ...
    def fmr_at(self, score: float) -> float: ...
    @property
    def fmr_range(self) -> tuple[float, float]: ...
    @property
    def points(self) -> list[tuple[float, float]]: ...

class DecisionThreshold:
    score: float
    fmr: Optional[float]
    @staticmethod
    def at_fmr(fmr: float) -> DecisionThreshold: ...
    @staticmethod
    def at_score(score: float) -> DecisionThreshold: ...

# -- 1:N -------------------------------------------------------------------------------------------
class SearchStrategy(Enum):
    Exhaustive: SearchStrategy
    CoarseToFine: SearchStrategy

class PopcountKernel(Enum):
    Auto: PopcountKernel
    Portable: PopcountKernel
    Avx2: PopcountKernel
    Avx512: PopcountKernel

class Candidate:
    id: int
    score: float
    def __iter__(self): ...

class IdentificationIndex:
    """search() may run in several threads at once; add/remove/clear are exclusive."""
    def __init__(self, threads: int = 0, strategy: SearchStrategy = SearchStrategy.CoarseToFine,
                 shortlist: int = 0, kernel: PopcountKernel = PopcountKernel.Auto) -> None: ...
    def add(self, id: int, template: Template) -> None: ...
    def add_bytes(self, id: int, data: BytesLike) -> None: ...
    def remove(self, id: int) -> int: ...
    def reserve(self, entries: int) -> None: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def bytes_per_template(self) -> int: ...
    @property
    def shortlist_size(self) -> int: ...
    @property
    def kernel(self) -> PopcountKernel: ...
    @property
    def strategy(self) -> SearchStrategy: ...
    def search(self, probe: Template, k: int, strategy: Optional[SearchStrategy] = None) -> list[Candidate]: ...
    def identify(self, probe: Template, threshold: float) -> Optional[Candidate]: ...
    def identify_at_fmr(self, probe: Template, fmr: float) -> Optional[Candidate]: ...

def available_popcount_kernels() -> list[PopcountKernel]: ...
def shard_of(key: int, shards: int) -> int: ...

class BenchGallery:
    probes: list[Template]
    mate_ids: list[int]
    absent_probes: list[Template]
    failures_to_acquire: int
    render_seconds: float
    fill_seconds: float

def fill_bench_gallery(index: IdentificationIndex, size: int, probes: int = 20, absent_probes: int = 0,
                       source_palms: int = 200, threads: int = 0, source: str = "synthetic", shard: int = 0,
                       shards: int = 1) -> BenchGallery: ...
def resident_bytes() -> int: ...

# -- metrics ---------------------------------------------------------------------------------------
class FnmrAtFmr:
    target_fmr: float
    fnmr: float
    threshold: float
    reliable: bool

class VerificationMetrics:
    genuine_pairs: int
    impostor_pairs: int
    eer: float
    eer_threshold: float
    fnmr_at_fmr: list[FnmrAtFmr]
    dprime: float
    def at(self, target_fmr: float) -> FnmrAtFmr: ...

class FnirAtFpir:
    target_fpir: float
    threshold: float
    fpir: float
    fnir: float
    fnir_list: float
    reliable: bool

class OpenSetMetrics:
    mated_probes: int
    nonmated_probes: int
    candidate_list: int
    fnir_at_fpir: list[FnirAtFpir]
    @property
    def cmc(self) -> npt.NDArray[np.float64]: ...
    def at(self, target_fpir: float) -> FnirAtFpir: ...

def open_set_metrics(mate_scores: npt.ArrayLike, mate_ranks: npt.ArrayLike, nonmated_best: npt.ArrayLike,
                     candidate_list: int = 10, cmc_ranks: int = 20) -> OpenSetMetrics: ...

class TailShape(Enum):
    Fitted: TailShape
    Exponential: TailShape

class TailModel:
    @staticmethod
    def fit(impostor: npt.ArrayLike, tail_fraction: float = 0.02, shape: TailShape = TailShape.Fitted) -> TailModel: ...
    @property
    def u(self) -> float: ...
    @property
    def xi(self) -> float: ...
    @property
    def sigma(self) -> float: ...
    @property
    def zeta(self) -> float: ...
    @property
    def exceedances(self) -> int: ...
    def tail_probability(self, t: float) -> float: ...
    def threshold_for_tail(self, p: float) -> float: ...
    def fpir(self, gallery_size: float, t: float) -> float: ...
    def threshold_for_fpir(self, gallery_size: float, target: float) -> float: ...

def verification_metrics(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> VerificationMetrics: ...
def det_curve(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> npt.NDArray[np.float64]: ...

# -- gallery ---------------------------------------------------------------------------------------
class Hand(Enum):
    Left: Hand
    Right: Hand
    Unknown: Hand
    @property
    def code(self) -> str: ...  # "L", "R", "U"

def parse_hand(text: str) -> Hand: ...

class GalleryFault(Enum):
    WrongKey: GalleryFault
    Tampered: GalleryFault
    NotFound: GalleryFault
    AlreadyExists: GalleryFault
    Busy: GalleryFault
    Corrupt: GalleryFault
    TooNew: GalleryFault
    Key: GalleryFault
    Io: GalleryFault
    NeedsMigration: GalleryFault

class EnrollMode(Enum):
    Create: EnrollMode
    Replace: EnrollMode
    Add: EnrollMode

class IdentityInfo:
    id: str
    display_name: str
    hand: Hand
    created: int
    updated: int
    algorithm: int
    template_count: int

class StoredTemplate:
    row_id: int
    id: str
    hand: Hand
    algorithm: int
    @property
    def data(self) -> bytes: ...
    @property
    def template(self) -> Template: ...

class PersonProbe:
    """A person presented with one palm or both (verify/identify fuse both hands by min when both are set)."""
    left: Optional[Template]
    right: Optional[Template]
    def __init__(self, left: Optional[Template] = None, right: Optional[Template] = None) -> None: ...
    @property
    def both(self) -> bool: ...

def two_hand_threshold(threshold: DecisionThreshold) -> DecisionThreshold: ...
def fuse_hand_scores(left: float, right: float) -> float: ...

class IdentityScore:
    id: str
    hand: Hand
    score: float
    templates: int
    left_score: Optional[float]   # two-hand searches: each hand's score (score is their min)
    right_score: Optional[float]

class VerificationResult:
    accepted: bool
    id: str
    hand: Hand
    score: float
    threshold: DecisionThreshold
    templates_compared: int
    two_hands: bool
    left_score: Optional[float]
    right_score: Optional[float]
    def __bool__(self) -> bool: ...

class IdentificationResult:
    identity: Optional[IdentityScore]
    candidates: list[IdentityScore]
    threshold: DecisionThreshold
    templates_compared: int
    two_hands: bool
    @property
    def found(self) -> bool: ...

class Gallery:
    """One thread at a time; open one Gallery per thread or process to share a file."""
    @staticmethod
    def open(path: PathType, key_file: Optional[PathType] = None, create: Optional[bool] = None,
             read_only: bool = False, busy_timeout_s: float = 5.0) -> Gallery: ...
    def enroll(self, id: str, templates: Sequence[Union[Template, bytes]], hand: Hand = Hand.Unknown,
               display_name: str = "", mode: EnrollMode = EnrollMode.Create, *, check_templates: bool = True,
               algorithm: int = 0) -> IdentityInfo: ...
    def enroll_many(self, requests: Sequence[tuple]) -> list[IdentityInfo]: ...
    def for_each_template(self, take) -> None: ...
    def remove(self, id: str, hand: Optional[Hand] = None) -> int: ...
    def list(self) -> list[IdentityInfo]: ...
    def find(self, id: str, hand: Hand = Hand.Unknown) -> Optional[IdentityInfo]: ...
    def templates_of(self, id: str, hand: Optional[Hand] = None) -> list[StoredTemplate]: ...
    def all_templates(self) -> list[StoredTemplate]: ...
    @overload
    def verify(self, id: str, probe: Template, threshold: Optional[DecisionThreshold] = None, fmr: float = 1e-4,
               hand: Optional[Hand] = None) -> VerificationResult: ...
    @overload
    def verify(self, id: str, probe: PersonProbe, threshold: Optional[DecisionThreshold] = None,
               fmr: float = 1e-4) -> VerificationResult: ...
    def identify(self, probe: Union[Template, PersonProbe], threshold: Optional[DecisionThreshold] = None,
                 fmr: float = 1e-4, k: int = 1) -> IdentificationResult: ...
    @property
    def schema_version(self) -> int: ...
    @property
    def stored_template_count(self) -> int: ...
    @property
    def path(self) -> PathLike: ...

class Verifier:
    """One identity's templates loaded once; verify() may run in several threads."""
    @staticmethod
    def load(gallery: Gallery, id: str, hand: Optional[Hand] = None) -> Verifier: ...
    def verify(self, probe: Union[Template, PersonProbe], threshold: Optional[DecisionThreshold] = None,
               fmr: float = 1e-4) -> VerificationResult: ...
    @property
    def id(self) -> str: ...
    @property
    def template_count(self) -> int: ...

class Identifier:
    """A gallery in the 1:N engine, loaded once; identify() may run in several threads."""
    @staticmethod
    def load(gallery: Gallery) -> Identifier: ...
    def identify(self, probe: Union[Template, PersonProbe], threshold: Optional[DecisionThreshold] = None,
                 fmr: float = 1e-4, k: int = 1) -> IdentificationResult: ...
    @property
    def template_count(self) -> int: ...

# -- sensors (HAVE_SENSORS) ------------------------------------------------------------------------
class DeviceFault(Enum):
    NotFound: DeviceFault
    Busy: DeviceFault
    Permission: DeviceFault
    Protocol: DeviceFault
    Timeout: DeviceFault
    Removed: DeviceFault
    Io: DeviceFault
    Cancelled: DeviceFault
    Unsupported: DeviceFault

class SensorInfo:
    uri: str
    driver: str
    name: str
    serial: str
    firmware: str

class SensorCapabilities:
    width: int
    height: int
    bit_depth: int
    wavelengths_nm: list[int]
    illumination_levels: int
    exposure_min_us: int
    exposure_max_us: int
    max_fps: float

class Frame:
    image: Image
    @property
    def array(self) -> npt.NDArray[Union[np.uint8, np.uint16]]: ...
    counter: int
    exposure_us: int
    gain: float
    illumination_level: int
    wavelength_nm: int

class Sensor:
    """One thread at a time, except cancel(); `with open_sensor(uri) as s:` starts and stops it."""
    @property
    def info(self) -> SensorInfo: ...
    @property
    def capabilities(self) -> SensorCapabilities: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def grab(self, timeout_s: float = 1.0) -> Frame: ...
    def cancel(self) -> None: ...
    def set_illumination(self, wavelength_nm: int, level: int) -> None: ...
    def set_exposure(self, exposure_us: int, gain: float = 1.0) -> None: ...
    def __enter__(self) -> Sensor: ...
    def __exit__(self, *args) -> bool: ...

def enumerate_sensors() -> list[SensorInfo]: ...
def open_sensor(uri: str) -> Sensor: ...
