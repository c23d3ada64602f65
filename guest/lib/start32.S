/* start32.S: entries for the 32-bit guests (flat protected mode, paging off).
 * PVH: ebx = hvm_start_info. Multiboot v1: eax = 0x2BADB002, ebx = multiboot info.
 * Both call gmain(eax, ebx) on the guest's own stack. The multiboot header is only linked
 * into guests that define MULTIBOOT (mb32); the PVH note only into the others, so each image
 * has exactly one way in. */

	.section .text.boot, "ax"
	.code32
#ifdef MULTIBOOT
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00010003	/* page-align modules, want memory info, address fields valid */
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header		/* header_addr */
	.long __load_start	/* load_addr */
	.long __load_end	/* load_end_addr */
	.long __bss_end		/* bss_end_addr */
	.long entry32		/* entry_addr */
#else
	.pushsection .note.Xen, "a"
	.balign 4
	.long 4, 4, 18		/* XEN_ELFNOTE_PHYS32_ENTRY, 4-byte descriptor in ELF32 */
	.asciz "Xen"
	.balign 4
	.long entry32
	.popsection
#endif

	.globl entry32
entry32:
	cli
	cld
	mov $stack_top, %esp
	mov %eax, %esi
	mov $__bss_start, %edi		/* the loader should have zeroed .bss; make sure */
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	lgdt gdt_desc			/* own flat GDT: the loader's is not ours to rely on */
	ljmp $0x08, $1f
1:	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	push %ebx
	push %esi
	call gmain
2:	cli
	hlt
	jmp 2b

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
gdt_end:
	.balign 4
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 16
	.skip 16384
stack_top:
