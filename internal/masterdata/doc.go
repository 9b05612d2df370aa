// Package masterdata owns vaxport's built-in reference data: India's 37
// states and union territories and 756 districts with Co-WIN's ids and
// English names (embedded from data/cowin-locations.json, MIT, see
// data/SOURCES.md), and the default vaccines (COVISHIELD, COVAXIN, SPUTNIK V)
// with their dose intervals and EU DCC codes.
//
// On top of Co-WIN's lists it GENERATES, by fixed rules, data that Co-WIN
// does not publish and that demos need: a few PIN codes and a coordinate per
// district (plausible, not real) and Hindi names for districts (an
// approximate transliteration). State names in Hindi and in the state's main
// language are hand-written. data/SOURCES.md says which is which.
//
// Load writes the data into a vax.Store. The package never reads files at
// run time (the data is embedded), never talks to the network, and holds no
// business rules.
package masterdata
