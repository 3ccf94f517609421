from ._pymon import *
