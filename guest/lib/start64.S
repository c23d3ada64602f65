/* start64.S: PVH entry for the 64-bit guests. The loader enters pvh_start in flat 32-bit
 * protected mode with paging off and ebx = hvm_start_info; this stub zeroes .bss, builds
 * its own identity map of the low 4 GiB (2 MiB pages), its own GDT, enables long mode and
 * calls gmain(0, start_info) on its own stack. */

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

	/* XEN_ELFNOTE_PHYS32_ENTRY (18), name "Xen"; 8-byte descriptor as Linux writes it. */
	.section .note.Xen, "a"
	.balign 4
	.long 4, 8, 18
	.asciz "Xen"
	.balign 4
	.quad pvh_start

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	mov %ebx, %esi			/* start_info, kept for gmain */

	mov $__bss_start, %edi		/* zero .bss (page tables and stack live there) */
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	mov $pd, %edi			/* 2048 PDEs: 4 GiB in 2 MiB pages */
	mov $(PTE_P | PTE_W | PTE_PS), %eax
	mov $2048, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	mov $pdpt, %edi			/* 4 PDPTEs -> the 4 PDs */
	mov $(pd + PTE_P + PTE_W), %eax
	mov $4, %ecx
2:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 2b

	movl $(pdpt + PTE_P + PTE_W), pml4

	mov %cr4, %eax
	or $0x20, %eax			/* CR4.PAE */
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	lgdt gdt_desc
	mov %cr0, %eax
	or $0x80000001, %eax		/* CR0.PG | CR0.PE */
	mov %eax, %cr0
	ljmp $0x08, $long_entry

	.code64
long_entry:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	mov $stack_top, %rsp
	xor %edi, %edi			/* gmain(eax = 0, ebx = start_info) */
	call gmain
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
gdt_end:
	.balign 4
	.globl gdt_desc
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
	.balign 16
	.skip 16384
	.globl stack_top
stack_top:
