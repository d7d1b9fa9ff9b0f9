; Binary increment: adds one to the binary number on the tape (most significant bit first).
; Expected: 1011 (11) becomes 1100 (12); halts in 'done'.
name:  binary increment
start: right
blank: _
halt:  done
tape:  1011

; walk to the right end of the number
right 0 0 R right
right 1 1 R right
right _ _ L carry
; add one, carrying leftwards
carry 1 0 L carry
carry 0 1 L done
carry _ 1 L done
