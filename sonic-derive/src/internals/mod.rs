//! The internal model of the derive input, parsed and checked before any code is generated.

pub mod ast;
pub mod attr;
pub mod case;
pub mod check;
pub mod ctxt;
