// Package captcha is the optional captcha of the Co-WIN surface
// (getRecaptcha, and the "captcha" field of schedule): it draws challenges
// as SVG pictures and checks answers. It is off unless an operator turns it
// on; vaxport's answer to bots is fair release and slot alerts, and this
// exists for clients written against Co-WIN's captcha.
//
// A challenge is five characters from an alphabet without look-alikes,
// drawn as jittered strokes (draw.go): paths only, never text, so the
// answer cannot be read from the SVG source without recognising shapes.
// Each account has at most one challenge, kept in the store so that any
// node can check what another drew; the answer is kept only as a keyed
// hash. An answer is tried once: checking takes the challenge out of the
// store whether the answer is right or not, so guessing needs a new
// picture per guess.
//
// The package never logs, and never puts an answer in an error.
package captcha
